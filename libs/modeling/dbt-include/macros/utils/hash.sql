{#- hash(field): the md5 hex digest (32 lower-case hex characters) of field cast to text. -#}

{%- macro hash(field) -%}
  {{ return(adapter.dispatch('hash', 'dbt')(field)) }}
{%- endmacro -%}

{%- macro default__hash(field) -%}
md5(cast({{ field }} as {{ api.Column.translate_type('string') }}))
{%- endmacro -%}
