{#-
  concat(fields): join a list of SQL expressions with the || operator. As with ||, a
  null in any field makes the result null.
-#}

{%- macro concat(fields) -%}
  {{ return(adapter.dispatch('concat', 'dbt')(fields)) }}
{%- endmacro -%}

{%- macro default__concat(fields) -%}
{{ fields | join(' || ') }}
{%- endmacro -%}
