{#-
  split_part(string_text, delimiter_text, part_number): the part_number-th piece of
  string_text split on delimiter_text (1-based). A negative part_number counts from the
  end (-1 is the last piece). string_text and delimiter_text are SQL expressions
  (a literal delimiter is written with its quotes: "','"); part_number is a number.
-#}

{%- macro split_part(string_text, delimiter_text, part_number) -%}
  {{ return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) }}
{%- endmacro -%}

{%- macro default__split_part(string_text, delimiter_text, part_number) -%}
split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro -%}

{#-
  PostgreSQL before 14 rejects negative positions, so a negative part_number is turned
  into a positive one: the number of pieces is the number of delimiters plus one, and
  the number of delimiters is the length the delimiters take up divided by the
  delimiter's length.
-#}
{%- macro postgres__split_part(string_text, delimiter_text, part_number) -%}
  {%- if (part_number | int) >= 0 -%}
split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
  {%- else -%}
    {%- set delimiter_count = '((length(' ~ string_text ~ ') - length(replace(' ~ string_text ~ ', ' ~ delimiter_text ~ ", ''))) / length(" ~ delimiter_text ~ '))' -%}
split_part({{ string_text }}, {{ delimiter_text }}, ({{ delimiter_count }} + 1) + 1 + ({{ part_number }}))
  {%- endif -%}
{%- endmacro -%}
