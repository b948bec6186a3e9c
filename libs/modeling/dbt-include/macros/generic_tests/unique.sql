{#-
  unique: fails on each non-null value of column_name that occurs more than once. The
  query returns one row per duplicated value: unique_field (the value) and n_records
  (how many rows hold it). Nulls are not checked.
-#}

{% test unique(model, column_name) %}
  {{ adapter.dispatch('test_unique', 'dbt')(model, column_name) }}
{% endtest %}

{%- macro default__test_unique(model, column_name) -%}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{%- endmacro -%}
