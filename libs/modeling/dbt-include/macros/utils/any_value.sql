{#- any_value(expression): aggregate returning some value of expression from the group. -#}

{%- macro any_value(expression) -%}
  {{ return(adapter.dispatch('any_value', 'dbt')(expression)) }}
{%- endmacro -%}

{%- macro default__any_value(expression) -%}
any_value({{ expression }})
{%- endmacro -%}

{#- PostgreSQL before 16 has no any_value; min() picks a value deterministically (ignoring nulls). -#}
{%- macro postgres__any_value(expression) -%}
min({{ expression }})
{%- endmacro -%}
