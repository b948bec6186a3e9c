{#-
  Portable column type names. Each returns a string (via return()), not rendered SQL,
  so callers can write cast(x as {{ dbt.type_string() }}).
  On PostgreSQL api.Column.translate_type maps: string -> TEXT, timestamp -> TIMESTAMP,
  float -> FLOAT, integer -> INT, boolean -> BOOLEAN; any other name comes back unchanged
  (so 'bigint' stays 'bigint').
-#}

{%- macro type_string() -%}
  {{ return(adapter.dispatch('type_string', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__type_string() -%}
  {{ return(api.Column.translate_type('string')) }}
{%- endmacro -%}


{%- macro type_timestamp() -%}
  {{ return(adapter.dispatch('type_timestamp', 'dbt')()) }}
{%- endmacro -%}

{#- PostgreSQL: plain TIMESTAMP is timestamp without time zone. -#}
{%- macro default__type_timestamp() -%}
  {{ return(api.Column.translate_type('timestamp')) }}
{%- endmacro -%}


{%- macro type_float() -%}
  {{ return(adapter.dispatch('type_float', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__type_float() -%}
  {{ return(api.Column.translate_type('float')) }}
{%- endmacro -%}


{%- macro type_numeric() -%}
  {{ return(adapter.dispatch('type_numeric', 'dbt')()) }}
{%- endmacro -%}

{#- A fixed precision and scale, so that the type means the same thing everywhere. -#}
{%- macro default__type_numeric() -%}
  {{ return('numeric(28,6)') }}
{%- endmacro -%}


{%- macro type_bigint() -%}
  {{ return(adapter.dispatch('type_bigint', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__type_bigint() -%}
  {{ return(api.Column.translate_type('bigint')) }}
{%- endmacro -%}


{%- macro type_int() -%}
  {{ return(adapter.dispatch('type_int', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__type_int() -%}
  {{ return(api.Column.translate_type('integer')) }}
{%- endmacro -%}


{%- macro type_boolean() -%}
  {{ return(adapter.dispatch('type_boolean', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__type_boolean() -%}
  {{ return(api.Column.translate_type('boolean')) }}
{%- endmacro -%}
