{#-
  not_null: fails on each row where column_name is null. The query returns those rows
  (just the column, or every column when the test stores its failures).
-#}

{% test not_null(model, column_name) %}
  {{ adapter.dispatch('test_not_null', 'dbt')(model, column_name) }}
{% endtest %}

{%- macro default__test_not_null(model, column_name) -%}
  {%- set keep_all_columns = should_store_failures is defined and should_store_failures() -%}
select {{ '*' if keep_all_columns else column_name }}
from {{ model }}
where {{ column_name }} is null
{%- endmacro -%}
