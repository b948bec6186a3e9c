{#-
  accepted_values(values, quote=True): fails on each distinct value of column_name that
  is not in `values`. The query returns one row per such value: value_field and
  n_records. Each value is written as a quoted string literal unless quote is false
  (then as SQL as given, for numbers or booleans). Null is never reported.
-#}

{% test accepted_values(model, column_name, values, quote=True) %}
  {{ adapter.dispatch('test_accepted_values', 'dbt')(model, column_name, values, quote) }}
{% endtest %}

{%- macro default__test_accepted_values(model, column_name, values, quote=True) -%}
  {%- set accepted = [] -%}
  {%- for value in values -%}
    {%- do accepted.append("'" ~ value ~ "'" if quote else value | string) -%}
  {%- endfor -%}
with value_counts as (
    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from value_counts
where value_field not in ({{ accepted | join(', ') }})
{%- endmacro -%}
