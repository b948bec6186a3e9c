{#-
  date(year, month, day): a SQL date literal for that calendar day, built at compile
  time. The three numbers are checked as a real date (2023, 2, 30 fails to compile).
-#}

{%- macro date(year, month, day) -%}
  {{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}
{%- endmacro -%}

{%- macro default__date(year, month, day) -%}
  {%- set iso_day = modules.datetime.date(year | int, month | int, day | int).isoformat() -%}
to_date({{ dbt.string_literal(iso_day) }}, 'YYYY-MM-DD')
{%- endmacro -%}
