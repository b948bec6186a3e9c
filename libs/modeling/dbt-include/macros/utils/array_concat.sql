{#- array_concat(array_1, array_2): the elements of array_1 followed by those of array_2. -#}

{%- macro array_concat(array_1, array_2) -%}
  {{ return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) }}
{%- endmacro -%}

{#- PostgreSQL spells it array_cat. -#}
{%- macro default__array_concat(array_1, array_2) -%}
array_cat({{ array_1 }}, {{ array_2 }})
{%- endmacro -%}
