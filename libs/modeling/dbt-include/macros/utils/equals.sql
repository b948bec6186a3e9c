{#-
  equals(expr1, expr2): a boolean SQL condition, true when the two expressions are equal
  or both null, false otherwise (never null). Used by incremental models to match keys.
-#}

{%- macro equals(expr1, expr2) -%}
  {{ return(adapter.dispatch('equals', 'dbt')(expr1, expr2)) }}
{%- endmacro -%}

{#- Portable form: the plain comparison, falling back to "both null" when it is unknown. -#}
{%- macro default__equals(expr1, expr2) -%}
coalesce(({{ expr1 }}) = ({{ expr2 }}), ({{ expr1 }}) is null and ({{ expr2 }}) is null)
{%- endmacro -%}

{%- macro postgres__equals(expr1, expr2) -%}
(({{ expr1 }}) is not distinct from ({{ expr2 }}))
{%- endmacro -%}
