{#-
  string_literal(value): `value` as a single-quoted SQL string literal. The value is
  written as it renders (none renders as None); quotes inside it are not escaped, so
  pass it through escape_single_quotes first when it may hold a quote.
-#}

{%- macro string_literal(value) -%}
  {{ return(adapter.dispatch('string_literal', 'dbt')(value)) }}
{%- endmacro -%}

{%- macro default__string_literal(value) -%}
'{{ value }}'
{%- endmacro -%}
