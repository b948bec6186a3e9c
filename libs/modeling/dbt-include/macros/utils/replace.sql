{#- replace(field, old_chars, new_chars): every occurrence of old_chars in field replaced by new_chars (all SQL expressions). -#}

{%- macro replace(field, old_chars, new_chars) -%}
  {{ return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) }}
{%- endmacro -%}

{%- macro default__replace(field, old_chars, new_chars) -%}
replace({{ field }}, {{ old_chars }}, {{ new_chars }})
{%- endmacro -%}
