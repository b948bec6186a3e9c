{#-
  relationships(to, field): referential integrity. Fails on each row whose non-null
  column_name has no match in field of the relation `to` (written ref('parent') or
  source(...) in YAML). The query returns those values as from_field, one row per
  child row.
-#}

{% test relationships(model, column_name, to, field) %}
  {{ adapter.dispatch('test_relationships', 'dbt')(model, column_name, to, field) }}
{% endtest %}

{%- macro default__test_relationships(model, column_name, to, field) -%}
with child_rows as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
), parent_keys as (
    select {{ field }} as to_field
    from {{ to }}
)
select child_rows.from_field
from child_rows
left join parent_keys
    on child_rows.from_field = parent_keys.to_field
where parent_keys.to_field is null
{%- endmacro -%}
