{#-
  last_day(date, datepart): the last calendar day of the month, quarter or year that
  `date` falls in, as a date.
-#}

{%- macro last_day(date, datepart) -%}
  {{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}
{%- endmacro -%}

{#- Start of the period, one period on, one day back. -#}
{%- macro default_last_day(date, datepart) -%}
  {%- set period_start = dbt.date_trunc(datepart, date) -%}
  {%- set next_period_start = dbt.dateadd(datepart, '1', period_start) -%}
cast({{ dbt.dateadd('day', '-1', next_period_start) }} as date)
{%- endmacro -%}

{%- macro default__last_day(date, datepart) -%}
  {{ return(dbt.default_last_day(date, datepart)) }}
{%- endmacro -%}

{#-
  PostgreSQL has no 'quarter' interval unit: a quarter's end is its start plus three
  months minus one day (spelled out here so it holds even if a project overrides
  dateadd). Other dateparts use the default.
-#}
{%- macro postgres__last_day(date, datepart) -%}
  {%- if (datepart | string | trim | lower) == 'quarter' -%}
cast({{ dbt.dateadd('day', '-1', dbt.dateadd('month', '3', dbt.date_trunc('quarter', date))) }} as date)
  {%- else -%}
  {{ return(dbt.default_last_day(date, datepart)) }}
  {%- endif -%}
{%- endmacro -%}
