{#- date_trunc(datepart, date): round a date or timestamp down to the start of its `datepart`. -#}

{%- macro date_trunc(datepart, date) -%}
  {{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}
{%- endmacro -%}

{#- PostgreSQL's own date_trunc takes the unit as a string; on a timestamp it returns a timestamp. -#}
{%- macro default__date_trunc(datepart, date) -%}
date_trunc('{{ datepart }}', {{ date }})
{%- endmacro -%}
