{#-
  dateadd(datepart, interval, from_date_or_timestamp): move a date or timestamp by
  `interval` units of `datepart`. All three arguments are SQL text (column names,
  expressions or literals), except datepart, which is a bare unit name such as 'day'.
-#}

{%- macro dateadd(datepart, interval, from_date_or_timestamp) -%}
  {{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro -%}

{#- Warehouses with a native dateadd(unit, n, value) function. -#}
{%- macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro -%}

{#-
  PostgreSQL: add a one-unit interval multiplied by the count. A date plus an interval
  is a timestamp. PostgreSQL has no 'quarter' interval unit, so a quarter is written as
  three months.
-#}
{%- macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
  {%- set unit = datepart | string | trim | lower -%}
  {%- if unit == 'quarter' -%}
    {%- set one_unit = "interval '3 month'" -%}
  {%- else -%}
    {%- set one_unit = "interval '1 " ~ unit ~ "'" -%}
  {%- endif -%}
({{ from_date_or_timestamp }} + ({{ one_unit }} * ({{ interval }})))
{%- endmacro -%}
