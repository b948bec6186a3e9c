{#-
  generate_database_name(custom_database_name=none, node=none): the database a node is
  built in: the custom database when one is configured (as given), else the target's.
-#}

{%- macro generate_database_name(custom_database_name=none, node=none) -%}
  {{ return(adapter.dispatch('generate_database_name', 'dbt')(custom_database_name, node)) }}
{%- endmacro -%}

{%- macro default__generate_database_name(custom_database_name, node) -%}
  {%- if custom_database_name is none -%}
{{ target.database }}
  {%- else -%}
{{ custom_database_name }}
  {%- endif -%}
{%- endmacro -%}
