{#-
  array_construct(inputs=[], data_type=api.Column.translate_type('integer')): an array
  literal from a list of SQL expressions. An empty list needs a type, data_type, and
  gives an empty array of that type.
-#}

{%- macro array_construct(inputs=[], data_type=api.Column.translate_type('integer')) -%}
  {{ return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type)) }}
{%- endmacro -%}

{%- macro default__array_construct(inputs, data_type) -%}
  {%- if inputs | length > 0 -%}
array[{{ inputs | join(', ') }}]
  {%- else -%}
array[]::{{ data_type }}[]
  {%- endif -%}
{%- endmacro -%}
