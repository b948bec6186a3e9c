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

export const EXPECTATION_TYPES = [...MAP_EXPECTATIONS, ...AGGREGATE_EXPECTATIONS, ...TABLE_EXPECTATIONS, ...WEIR_EXPECTATIONS] as const;
export type ExpectationType = (typeof EXPECTATION_TYPES)[number];

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
