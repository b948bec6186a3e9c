{#- bool_or(expression): aggregate, true when the boolean expression is true for at least one row (nulls ignored). -#}

{%- macro bool_or(expression) -%}
  {{ return(adapter.dispatch('bool_or', 'dbt')(expression)) }}
{%- endmacro -%}

{%- macro default__bool_or(expression) -%}
bool_or({{ expression }})
{%- endmacro -%}
