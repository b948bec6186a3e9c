{#- array_append(array, new_element): the array with new_element added at the end (both SQL expressions). -#}

{%- macro array_append(array, new_element) -%}
  {{ return(adapter.dispatch('array_append', 'dbt')(array, new_element)) }}
{%- endmacro -%}

{%- macro default__array_append(array, new_element) -%}
array_append({{ array }}, {{ new_element }})
{%- endmacro -%}
