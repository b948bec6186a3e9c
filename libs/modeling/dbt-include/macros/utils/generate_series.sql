{#-
  get_powers_of_two(upper_bound): the smallest n >= 1 with 2^n >= upper_bound, computed
  at compile time (a number, not SQL). upper_bound must be a positive number.

  generate_series(upper_bound): a select returning one column, generated_number, with
  one row for each whole number 1..upper_bound.
-#}

{%- macro get_powers_of_two(upper_bound) -%}
  {{ return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) }}
{%- endmacro -%}

{%- macro default__get_powers_of_two(upper_bound) -%}
  {%- if upper_bound <= 0 -%}
    {{ exceptions.raise_compiler_error('get_powers_of_two: upper bound must be positive, got ' ~ upper_bound) }}
  {%- endif -%}
  {%- set state = namespace(power=1, value=2) -%}
  {%- for _ in range(1, 100) -%}
    {%- if state.value < upper_bound -%}
      {%- set state.power = state.power + 1 -%}
      {%- set state.value = state.value * 2 -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(state.power) }}
{%- endmacro -%}


{%- macro generate_series(upper_bound) -%}
  {{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}
{%- endmacro -%}

{#-
  Without a series function: cross join n copies of a two-row bit table (0/1), read the
  bits as a binary number plus one, and keep the numbers up to upper_bound.
-#}
{%- macro default__generate_series(upper_bound) -%}
  {%- set bit_count = dbt.get_powers_of_two(upper_bound) -%}
  {%- set parts = namespace(terms=[], tables=[], weight=1) -%}
  {%- for i in range(bit_count) -%}
    {%- do parts.terms.append('b' ~ i ~ '.bit_value * ' ~ parts.weight) -%}
    {%- do parts.tables.append('bits as b' ~ i) -%}
    {%- set parts.weight = parts.weight * 2 -%}
  {%- endfor -%}
with bits as (
    select 0 as bit_value union all select 1 as bit_value
), numbers as (
    select {{ parts.terms | join(' + ') }} + 1 as generated_number
    from {{ parts.tables | join(' cross join ') }}
)
select generated_number
from numbers
where generated_number <= {{ upper_bound }}
order by generated_number
{%- endmacro -%}

{#- PostgreSQL has generate_series(start, stop); the result column is an integer. -#}
{%- macro postgres__generate_series(upper_bound) -%}
select generated_number
from generate_series(1, {{ upper_bound }}) as generated_number
{%- endmacro -%}
