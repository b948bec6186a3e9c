{#-
  safe_cast(field, type): cast that yields null instead of failing, where the warehouse
  has such a cast. PostgreSQL has none, so there it is an ordinary cast (a value that
  cannot be converted raises an error).
-#}

{%- macro safe_cast(field, type) -%}
  {{ return(adapter.dispatch('safe_cast', 'dbt')(field, type)) }}
{%- endmacro -%}

{%- macro default__safe_cast(field, type) -%}
cast({{ field }} as {{ type }})
{%- endmacro -%}
