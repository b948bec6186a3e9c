{#- except(): the set-difference keyword between two selects (select ... {{ dbt.except() }} select ...). -#}

{%- macro except() -%}
  {{ return(adapter.dispatch('except', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__except() -%}
except
{%- endmacro -%}
