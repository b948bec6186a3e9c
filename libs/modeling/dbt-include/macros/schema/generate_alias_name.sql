{#-
  generate_alias_name(custom_alias_name=none, node=none): the relation name a node is
  built as. A configured alias wins (trimmed); otherwise a versioned model is
  <name>_v<version> (dots in the version become underscores: v1.5 -> _v1_5); otherwise
  the node's name.
-#}

{%- macro generate_alias_name(custom_alias_name=none, node=none) -%}
  {{ return(adapter.dispatch('generate_alias_name', 'dbt')(custom_alias_name, node)) }}
{%- endmacro -%}

{%- macro default__generate_alias_name(custom_alias_name, node) -%}
  {%- if custom_alias_name -%}
{{ custom_alias_name | trim }}
  {%- elif node.version -%}
{{ node.name }}_v{{ node.version | string | replace('.', '_') }}
  {%- else -%}
{{ node.name }}
  {%- endif -%}
{%- endmacro -%}
