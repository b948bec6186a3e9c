{#-
  escape_single_quotes(expression): the Jinja string `expression` with each single quote
  doubled, ready to sit between single quotes in SQL ("they're" -> they''re).
-#}

{%- macro escape_single_quotes(expression) -%}
  {{ return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) }}
{%- endmacro -%}

{%- macro default__escape_single_quotes(expression) -%}
{{ expression | replace("'", "''") }}
{%- endmacro -%}
