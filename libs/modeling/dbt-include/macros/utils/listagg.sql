{#-
  listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none):
  aggregate `measure` into one delimited string per group.
    measure          SQL expression; may start with DISTINCT ('DISTINCT col')
    delimiter_text   SQL string literal, quotes included ("', '")
    order_by_clause  SQL text including the keywords ("order by col")
    limit_num        keep only the first limit_num values (in order_by_clause's order)
-#}

{%- macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
  {{ return(adapter.dispatch('listagg', 'dbt')(measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro -%}

{#- Warehouses with LISTAGG ... WITHIN GROUP (Snowflake style, with array_slice for a limit). -#}
{%- macro default__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
  {%- if limit_num -%}
array_to_string(array_slice(array_agg({{ measure }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}, 0, {{ limit_num }}), {{ delimiter_text }})
  {%- else -%}
listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
  {%- endif -%}
{%- endmacro -%}

{#-
  PostgreSQL: string_agg with the ORDER BY inside the call. With a limit, collect an
  ordered array, keep elements 1..limit_num and join them.
-#}
{%- macro postgres__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
  {%- set ordering = (' ' ~ order_by_clause) if order_by_clause else '' -%}
  {%- if limit_num -%}
array_to_string((array_agg({{ measure }}{{ ordering }}))[1:{{ limit_num }}], {{ delimiter_text }})
  {%- else -%}
string_agg({{ measure }}, {{ delimiter_text }}{{ ordering }})
  {%- endif -%}
{%- endmacro -%}
