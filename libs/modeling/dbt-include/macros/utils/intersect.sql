{#- intersect(): the set-intersection keyword between two selects. -#}

{%- macro intersect() -%}
  {{ return(adapter.dispatch('intersect', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__intersect() -%}
intersect
{%- endmacro -%}
