{#-
  current_timestamp(): the warehouse's current time.
  current_timestamp_backcompat(), current_timestamp_in_utc_backcompat(): the forms older
  dbt versions produced, kept for projects that compare against them: on PostgreSQL a
  timestamp without time zone, in the session's zone or in UTC.
-#}

{%- macro current_timestamp() -%}
  {{ return(adapter.dispatch('current_timestamp', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__current_timestamp() -%}
  {{ exceptions.raise_compiler_error('current_timestamp is not implemented for adapter ' ~ target.type) }}
{%- endmacro -%}

{#- now() is a timestamp with time zone, the start of the current transaction. -#}
{%- macro postgres__current_timestamp() -%}
now()
{%- endmacro -%}


{%- macro current_timestamp_backcompat() -%}
  {{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__current_timestamp_backcompat() -%}
current_timestamp::{{ dbt.type_timestamp() }}
{%- endmacro -%}

{%- macro postgres__current_timestamp_backcompat() -%}
current_timestamp::{{ dbt.type_timestamp() }}
{%- endmacro -%}


{%- macro current_timestamp_in_utc_backcompat() -%}
  {{ return(adapter.dispatch('current_timestamp_in_utc_backcompat', 'dbt')()) }}
{%- endmacro -%}

{%- macro default__current_timestamp_in_utc_backcompat() -%}
  {{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}
{%- endmacro -%}

{%- macro postgres__current_timestamp_in_utc_backcompat() -%}
(current_timestamp at time zone 'utc')::{{ dbt.type_timestamp() }}
{%- endmacro -%}
