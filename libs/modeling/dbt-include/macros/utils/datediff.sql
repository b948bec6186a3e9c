{#-
  datediff(first_date, second_date, datepart): how many `datepart` boundaries lie between
  first_date and second_date (second minus first; negative when second is earlier).
  It counts calendar boundaries crossed, not whole elapsed units: from 2018-12-31 to
  2019-01-01 is 1 year. Weeks start on Sunday. Null in, null out.
-#}

{%- macro datediff(first_date, second_date, datepart) -%}
  {{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}
{%- endmacro -%}

{#- Warehouses with a native datediff(unit, a, b) function. -#}
{%- macro default__datediff(first_date, second_date, datepart) -%}
datediff({{ datepart }}, {{ first_date }}, {{ second_date }})
{%- endmacro -%}

{#-
  PostgreSQL has no datediff. Calendar units (year, quarter, month) compare the date
  parts; day subtracts dates; week counts Sunday-started weeks by truncating both sides
  (shifted one day, since date_trunc's weeks start on Monday); units below a day
  truncate both sides to the unit and divide the elapsed epoch seconds.
  Arguments are cast (::date / ::timestamp), so quoted literals work as well as columns.
-#}
{%- macro postgres__datediff(first_date, second_date, datepart) -%}
  {%- set unit = datepart | string | trim | lower -%}
  {%- set a = '(' ~ first_date ~ ')' -%}
  {%- set b = '(' ~ second_date ~ ')' -%}
  {%- if unit == 'year' -%}
(date_part('year', {{ b }}::date) - date_part('year', {{ a }}::date))
  {%- elif unit == 'quarter' -%}
((date_part('year', {{ b }}::date) * 4 + date_part('quarter', {{ b }}::date)) - (date_part('year', {{ a }}::date) * 4 + date_part('quarter', {{ a }}::date)))
  {%- elif unit == 'month' -%}
((date_part('year', {{ b }}::date) * 12 + date_part('month', {{ b }}::date)) - (date_part('year', {{ a }}::date) * 12 + date_part('month', {{ a }}::date)))
  {%- elif unit == 'week' -%}
((date_trunc('week', ({{ b }}::date + 1)::timestamp)::date - date_trunc('week', ({{ a }}::date + 1)::timestamp)::date) / 7)
  {%- elif unit == 'day' -%}
({{ b }}::date - {{ a }}::date)
  {%- elif unit in ['hour', 'minute', 'second'] -%}
    {%- set seconds_per_unit = {'hour': 3600, 'minute': 60, 'second': 1}[unit] -%}
(date_part('epoch', date_trunc('{{ unit }}', {{ b }}::timestamp) - date_trunc('{{ unit }}', {{ a }}::timestamp)) / {{ seconds_per_unit }})
  {%- elif unit == 'millisecond' -%}
round(date_part('epoch', date_trunc('milliseconds', {{ b }}::timestamp) - date_trunc('milliseconds', {{ a }}::timestamp)) * 1000)
  {%- elif unit == 'microsecond' -%}
round(date_part('epoch', {{ b }}::timestamp - {{ a }}::timestamp) * 1000000)
  {%- else -%}
    {{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: " ~ datepart) }}
  {%- endif -%}
{%- endmacro -%}
