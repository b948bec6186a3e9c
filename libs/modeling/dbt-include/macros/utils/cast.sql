{#- cast(field, type): an ordinary SQL cast, with `type` usually from api.Column.translate_type or dbt.type_*(). -#}

{%- macro cast(field, type) -%}
  {{ return(adapter.dispatch('cast', 'dbt')(field, type)) }}
{%- endmacro -%}

{%- macro default__cast(field, type) -%}
cast({{ field }} as {{ type }})
{%- endmacro -%}
