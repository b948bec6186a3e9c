/** The expectation types Weir runs, with GX's names and kwargs. */
export const MAP_EXPECTATIONS = [
  'expect_column_values_to_not_be_null',
  'expect_column_values_to_be_null',
  'expect_column_values_to_be_in_set',
  'expect_column_values_to_not_be_in_set',
  'expect_column_values_to_be_between',
  'expect_column_value_lengths_to_be_between',
  'expect_column_values_to_match_regex',
  'expect_column_values_to_be_unique',
  'expect_column_pair_values_a_to_be_greater_than_b',
  'expect_compound_columns_to_be_unique',
  'expect_select_column_values_to_be_unique_within_record',
] as const;

export const AGGREGATE_EXPECTATIONS = [
  'expect_column_mean_to_be_between',
  'expect_column_min_to_be_between',
  'expect_column_max_to_be_between',
  'expect_column_proportion_of_unique_values_to_be_between',
  'expect_column_distinct_values_to_be_in_set',
] as const;

export const TABLE_EXPECTATIONS = [
  'expect_column_to_exist',
  'expect_table_columns_to_match_ordered_list',
  'expect_table_row_count_to_be_between',
  'expect_table_row_count_to_equal',
] as const;

/** Weir's own checks (not in GX). */
export const WEIR_EXPECTATIONS = ['relationships', 'freshness', 'row_count_change_within', 'custom_sql'] as const;

export const EXPECTATION_TYPES = [
  ...MAP_EXPECTATIONS,
  ...AGGREGATE_EXPECTATIONS,
  ...TABLE_EXPECTATIONS,
  ...WEIR_EXPECTATIONS,
] as const;
export type ExpectationType = (typeof EXPECTATION_TYPES)[number];

/** True for the types Great Expectations itself knows (exported as GX; Weir's own are kept apart). */
export function isGxType(t: string): boolean {
  return !(WEIR_EXPECTATIONS as readonly string[]).includes(t);
}

/** One kwarg of an expectation type. */
export interface KwargSpec {
  name: string;
  required?: boolean;
  description: string;
}

const K = {
  column: { name: 'column', required: true, description: 'the column checked' },
  mostly: { name: 'mostly', description: 'fraction (0..1) of non-null rows that must pass' },
  rowCondition: {
    name: 'row_condition',
    description: 'only rows where this condition holds (GX great_expectations syntax, or a SQL predicate)',
  },
  conditionParser: { name: 'condition_parser', description: 'how row_condition is written: great_expectations or sql' },
  min: { name: 'min_value', description: 'lower bound (null: none)' },
  max: { name: 'max_value', description: 'upper bound (null: none)' },
  strictMin: { name: 'strict_min', description: 'true: the lower bound is exclusive' },
  strictMax: { name: 'strict_max', description: 'true: the upper bound is exclusive' },
  valueSet: { name: 'value_set', required: true, description: 'the allowed (or forbidden) values' },
  columnList: { name: 'column_list', required: true, description: 'the columns, in order' },
  ignoreRowIf: { name: 'ignore_row_if', description: 'all_values_are_missing | any_value_is_missing | never' },
} satisfies Record<string, KwargSpec>;
const MAP = [K.mostly, K.rowCondition, K.conditionParser];
const BETWEEN = [K.min, K.max, K.strictMin, K.strictMax];

/** Every expectation type Weir runs, with its kwargs (GET /api/quality/expectation-types). */
export const EXPECTATION_KWARGS: Readonly<Record<ExpectationType, readonly KwargSpec[]>> = {
  expect_column_values_to_not_be_null: [K.column, ...MAP],
  expect_column_values_to_be_null: [K.column, ...MAP],
  expect_column_values_to_be_in_set: [K.column, K.valueSet, ...MAP],
  expect_column_values_to_not_be_in_set: [K.column, K.valueSet, ...MAP],
  expect_column_values_to_be_between: [K.column, ...BETWEEN, ...MAP],
  expect_column_value_lengths_to_be_between: [
    K.column,
    ...BETWEEN,
    { name: 'value', description: 'an exact length (instead of min/max)' },
    ...MAP,
  ],
  expect_column_values_to_match_regex: [
    K.column,
    { name: 'regex', required: true, description: 'a regular expression (PostgreSQL syntax) the values match' },
    ...MAP,
  ],
  expect_column_values_to_be_unique: [K.column, ...MAP],
  expect_column_pair_values_a_to_be_greater_than_b: [
    { name: 'column_A', required: true, description: 'the column expected greater' },
    { name: 'column_B', required: true, description: 'the column expected smaller' },
    { name: 'or_equal', description: 'true: A >= B passes' },
    K.ignoreRowIf,
    ...MAP,
  ],
  expect_compound_columns_to_be_unique: [K.columnList, K.ignoreRowIf, ...MAP],
  expect_select_column_values_to_be_unique_within_record: [K.columnList, K.ignoreRowIf, ...MAP],
  expect_column_mean_to_be_between: [K.column, ...BETWEEN, K.rowCondition, K.conditionParser],
  expect_column_min_to_be_between: [K.column, ...BETWEEN, K.rowCondition, K.conditionParser],
  expect_column_max_to_be_between: [K.column, ...BETWEEN, K.rowCondition, K.conditionParser],
  expect_column_proportion_of_unique_values_to_be_between: [K.column, ...BETWEEN, K.rowCondition, K.conditionParser],
  expect_column_distinct_values_to_be_in_set: [K.column, K.valueSet, K.rowCondition, K.conditionParser],
  expect_column_to_exist: [K.column, { name: 'column_index', description: 'its expected position (0-based)' }],
  expect_table_columns_to_match_ordered_list: [K.columnList],
  expect_table_row_count_to_be_between: [K.min, K.max, K.rowCondition, K.conditionParser],
  expect_table_row_count_to_equal: [
    { name: 'value', required: true, description: 'the exact row count' },
    K.rowCondition,
    K.conditionParser,
  ],
  relationships: [
    K.column,
    { name: 'to', required: true, description: 'the referenced dataset (or schema.table)' },
    { name: 'field', required: true, description: 'the referenced column' },
    K.rowCondition,
  ],
  freshness: [
    { name: 'column', description: 'a timestamp column (default: the time of the last load)' },
    { name: 'warn_after', description: 'age that warns, e.g. "2 hours"' },
    { name: 'error_after', description: 'age that fails, e.g. "1 day"' },
  ],
  row_count_change_within: [
    {
      name: 'max_change_percent',
      required: true,
      description: 'largest change of the row count since the last run, in percent',
    },
  ],
  custom_sql: [
    {
      name: 'sql',
      required: true,
      description: 'a SELECT returning the failing rows; {table} is the table under test',
    },
  ],
};

/** Aliases GX used over time. */
const ALIASES: Record<string, ExpectationType> = {
  expect_column_pair_values_A_to_be_greater_than_B: 'expect_column_pair_values_a_to_be_greater_than_b',
};

export function canonicalType(t: string): ExpectationType | undefined {
  const c = (ALIASES[t] ?? t) as ExpectationType;
  return (EXPECTATION_TYPES as readonly string[]).includes(c) ? c : undefined;
}

/** One expectation of a suite: GX's `expectation_type` + `kwargs` (+ `meta`), and a severity. */
export interface Expectation {
  type: string;
  kwargs: Record<string, unknown>;
  meta?: Record<string, unknown>;
  /** `error` blocks publishing when it fails; `warn` is reported. Default: error. */
  severity?: 'warn' | 'error';
}

export type ResultFormat = 'BOOLEAN_ONLY' | 'BASIC' | 'SUMMARY' | 'COMPLETE';

/** A GX-shaped validation result (what GX's ExpectationValidationResult.result holds, plus Weir's fields). */
export interface ExpectationResult {
  expectation: Expectation;
  success: boolean;
  severity: 'warn' | 'error';
  result: {
    observed_value?: unknown;
    element_count?: number;
    missing_count?: number;
    missing_percent?: number | null;
    unexpected_count?: number;
    unexpected_percent?: number | null;
    unexpected_percent_total?: number | null;
    unexpected_percent_nonmissing?: number | null;
    partial_unexpected_list?: unknown[];
    unexpected_list?: unknown[];
    unexpected_index_list?: unknown[];
    details?: Record<string, unknown>;
  };
  exception_info?: { raised_exception: boolean; exception_message?: string };
}

/** A suite's problem with an expectation (bad kwargs, unknown column), reported per expectation. */
export class ExpectationError extends Error {}
