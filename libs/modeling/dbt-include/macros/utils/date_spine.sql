{#-
  date_spine(datepart, start_date, end_date): a select returning one column,
  date_<datepart>, with one row per `datepart` from start_date (included) up to
  end_date (excluded). start_date and end_date are SQL expressions
  ("'2023-09-01'::date", "dbt.date(2023, 9, 1)"). The row count is found at compile
  time with get_intervals_between, so this runs a query while compiling.
  On PostgreSQL the column is a timestamp (a date plus an interval).
-#}

{%- macro date_spine(datepart, start_date, end_date) -%}
  {{ return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) }}
{%- endmacro -%}

{%- macro default__date_spine(datepart, start_date, end_date) -%}
  {%- set column_name = 'date_' ~ datepart -%}
  {%- set step_count = dbt.get_intervals_between(start_date, end_date, datepart) -%}
with spine_steps as (
    {{ dbt.generate_series(step_count) }}
), spine_periods as (
    select {{ dbt.dateadd(datepart, 'spine_steps.generated_number - 1', start_date) }} as {{ column_name }}
    from spine_steps
)
select {{ column_name }}
from spine_periods
where {{ column_name }} < {{ end_date }}
{%- endmacro -%}
