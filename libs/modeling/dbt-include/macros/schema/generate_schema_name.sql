{#-
  generate_schema_name(custom_schema_name=none, node=none): the schema a node is built
  in. No custom schema: the target's schema. A custom schema (config schema='x'): the
  target's schema, an underscore, then the custom name (analytics_x), so developers
  sharing a warehouse do not collide. A project overrides this macro (or
  default__generate_schema_name) to change the rule. The rendered text is the name;
  surrounding whitespace is not part of it.

  generate_schema_name_for_env(custom_schema_name, node): the alternative rule dbt
  documents: in the target named 'prod' a custom schema is used as is; elsewhere
  everything goes to the target's schema. A project opts in by calling it from its own
  generate_schema_name.
-#}

{%- macro generate_schema_name(custom_schema_name=none, node=none) -%}
  {{ return(adapter.dispatch('generate_schema_name', 'dbt')(custom_schema_name, node)) }}
{%- endmacro -%}

{%- macro default__generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}
{{ target.schema }}
  {%- else -%}
{{ target.schema }}_{{ custom_schema_name | trim }}
  {%- endif -%}
{%- endmacro -%}


{%- macro generate_schema_name_for_env(custom_schema_name, node) -%}
  {%- if target.name == 'prod' and custom_schema_name is not none -%}
{{ custom_schema_name | trim }}
  {%- else -%}
{{ target.schema }}
  {%- endif -%}
{%- endmacro -%}
