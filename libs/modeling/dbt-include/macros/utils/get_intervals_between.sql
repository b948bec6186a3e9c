{#-
  get_intervals_between(start_date, end_date, datepart): the number of `datepart`
  boundaries between two SQL date expressions, worked out by running
  select <datediff> against the warehouse at compile time. Returns a number (not SQL).
  When the query does not run (parsing, execute is false) it returns 1.
-#}

{%- macro get_intervals_between(start_date, end_date, datepart) -%}
  {{ return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) }}
{%- endmacro -%}

{%- macro default__get_intervals_between(start_date, end_date, datepart) -%}
  {%- if execute -%}
    {%- set result = run_query('select ' ~ dbt.datediff(start_date, end_date, datepart)) -%}
    {%- set values = result.columns[0].values() if result is not none else [] -%}
    {%- if values | length > 0 -%}
      {{ return(values[0] | int) }}
    {%- endif -%}
  {%- endif -%}
  {{ return(1) }}
{%- endmacro -%}
