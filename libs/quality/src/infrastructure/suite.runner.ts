import type { ClientBase } from 'pg';
import { types as pgTypes } from 'pg';
import { isStatementTimeout } from '@weir/platform';
import { canonicalType, Expectation, ExpectationResult, ResultFormat } from '../domain/expectations';
import {
  CheckPlan,
  ColumnInfo,
  CompiledSuite,
  compileSuite,
  durationSeconds,
  resolveParameter,
} from '../domain/suite-compiler';

/** Values as GX reports them: numbers as numbers, timestamps as ISO text. */
const parsers: Record<number, (v: string) => unknown> = {
  20: (v) => (Math.abs(Number(v)) <= Number.MAX_SAFE_INTEGER ? Number(v) : v), // int8
  1700: (v) => Number(v), // numeric
  1114: (v) => v.replace(' ', 'T'), // timestamp
  1184: (v) => v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'), // timestamptz, offset as ±HH:MM
  1082: (v) => v, // date
};
export const QUALITY_TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    parsers[oid] ?? pgTypes.getTypeParser(oid, format ?? 'text'),
};

export interface RunOptions {
  resultFormat?: ResultFormat;
  /** Also compute profile metrics (null ratios, numeric mean/min/max) in the same scan. */
  profile?: boolean;
  /** Columns whose distinct count is profiled too (a sort per column: opt in). */
  distinctColumns?: string[];
  /** freshness without a column: when the dataset was last loaded. */
  lastLoadAt?: Date | null;
  /** row_count_change_within: the dataset's row count at its previous quality run. */
  previousRowCount?: number | null;
  now?: Date;
  /** How many unexpected values to keep in partial lists when a check does not say (default 20, GX's). */
  partialCount?: number;
  /**
   * Most unexpected values one check keeps (WEIR_QUALITY_SAMPLE_MAX): a check's
   * `result_format.partial_unexpected_count` and a `COMPLETE` format's lists are cut to it.
   * Undefined: no cap (GX's own behaviour).
   */
  sampleMax?: number;
  /** Columns whose values are masked in results (PII). */
  masked?: ReadonlySet<string>;
}

function resultFormatOf(e: Expectation, dflt: ResultFormat): ResultFormat {
  const rf = e.kwargs?.['result_format'];
  if (typeof rf === 'string') return rf.toUpperCase() as ResultFormat;
  if (rf && typeof rf === 'object' && typeof (rf as { result_format?: unknown }).result_format === 'string') {
    return ((rf as { result_format: string }).result_format.toUpperCase() as ResultFormat) ?? dflt;
  }
  return dflt;
}

/**
 * How many unexpected values a check keeps: `partial` in its partial list (its
 * `result_format.partial_unexpected_count`, else `partialCount`, else 20), and with `COMPLETE`,
 * `complete` in its full lists (undefined: all of them). Both are cut to `sampleMax` when set.
 */
export function sampleSizes(
  e: Expectation,
  format: ResultFormat,
  opts: Pick<RunOptions, 'partialCount' | 'sampleMax'>,
): { partial: number; complete?: number } {
  const rf = e.kwargs?.['result_format'];
  const asked =
    rf && typeof rf === 'object' ? (rf as { partial_unexpected_count?: unknown }).partial_unexpected_count : undefined;
  const wanted =
    typeof asked === 'number' && Number.isSafeInteger(asked) && asked >= 0 ? asked : (opts.partialCount ?? 20);
  const cap = opts.sampleMax;
  return {
    partial: cap === undefined ? wanted : Math.min(wanted, cap),
    ...(format === 'COMPLETE' ? { complete: cap } : {}),
  };
}

const pct = (n: number, d: number): number | null => (d === 0 ? null : (100 * n) / d);

function within(v: number | string | null | undefined, k: Record<string, unknown>): boolean {
  if (v === null || v === undefined) return false;
  const lo = k['min_value'];
  const hi = k['max_value'];
  const cmp = (a: unknown, b: unknown) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  if (lo !== undefined && lo !== null && (k['strict_min'] ? cmp(v, lo) <= 0 : cmp(v, lo) < 0)) return false;
  if (hi !== undefined && hi !== null && (k['strict_max'] ? cmp(v, hi) >= 0 : cmp(v, hi) > 0)) return false;
  return true;
}

/**
 * Runs a suite on a table: one scan for every row-wise and aggregate check, a grouped query per
 * uniqueness check, a GROUP BY per distinct-set check, and — only for failed checks — a LIMITed
 * query for samples of unexpected values. Returns GX-shaped results.
 */
export async function runSuite(
  client: ClientBase,
  table: { schema: string; table: string },
  expectations: Expectation[],
  opts: RunOptions & {
    indexColumn?: string;
    /** Runs the queries a user's SQL is part of (default: on `client`, with {@link QUALITY_TYPES}). */
    read?: (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;
  } = {},
): Promise<{
  compiled: CompiledSuite;
  results: ExpectationResult[];
  columns: ColumnInfo[];
  profile: Record<string, number>;
}> {
  const columns = (
    await client.query<ColumnInfo>({
      text: `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      values: [table.schema, table.table],
    })
  ).rows;
  const compiled = compileSuite(table, columns, expectations, {
    indexColumn: opts.indexColumn,
    profile: opts.profile,
    distinctColumns: opts.distinctColumns,
    masked: opts.masked,
  });
  const query =
    opts.read ??
    (async (text: string, values: unknown[]) => (await client.query({ text, values, types: QUALITY_TYPES })).rows);
  const scan = compiled.scanSql ? (await query(compiled.scanSql, compiled.params))[0] : {};
  const results: ExpectationResult[] = [];
  for (const plan of compiled.plans) {
    // a user's SQL that fails (a permission it lacks, a typo) fails its own check, not the run
    const own = plan.kind === 'custom_sql' && !plan.error;
    if (own) await client.query('SAVEPOINT weir_custom_sql');
    const r = await evaluate(plan, scan, columns, compiled, query, opts);
    if (own)
      await client.query(
        r.exception_info?.raised_exception
          ? 'ROLLBACK TO SAVEPOINT weir_custom_sql'
          : 'RELEASE SAVEPOINT weir_custom_sql',
      );
    results.push(r);
  }
  const profile: Record<string, number> = {};
  const rows = Number((scan as Record<string, unknown>)['p_rows'] ?? 0);
  for (const [metric, alias] of Object.entries(compiled.profile)) {
    const v = (scan as Record<string, unknown>)[alias];
    if (metric.startsWith('null_ratio(')) {
      if (rows > 0) profile[metric] = (rows - Number(v)) / rows;
    } else if (typeof v === 'number' && Number.isFinite(v)) profile[metric] = v;
  }
  return { compiled, results, columns, profile };
}

/** One check being evaluated: its plan, kwargs (parameters resolved), severity, and what it reads. */
interface Check {
  plan: CheckPlan;
  e: Expectation;
  k: Record<string, unknown>;
  severity: 'warn' | 'error';
  format: ResultFormat;
  type: string;
  scan: Record<string, unknown>;
  columns: ColumnInfo[];
  compiled: CompiledSuite;
  query: (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;
  opts: RunOptions;
}

async function evaluate(
  plan: CheckPlan,
  scan: Record<string, unknown>,
  columns: ColumnInfo[],
  compiled: CompiledSuite,
  query: (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>,
  opts: RunOptions,
): Promise<ExpectationResult> {
  const e = plan.expectation;
  const k = Object.fromEntries(Object.entries(e.kwargs ?? {}).map(([key, v]) => [key, resolveParameter(v)]));
  const severity = e.severity ?? (k['severity'] === 'warn' ? 'warn' : 'error');
  const fail = (message: string): ExpectationResult => ({
    expectation: e,
    success: false,
    severity,
    result: {},
    exception_info: { raised_exception: true, exception_message: message },
  });
  if (plan.error) return fail(plan.error);
  const format = resultFormatOf(e, opts.resultFormat ?? 'BASIC');
  const type = canonicalType(e.type)!;
  const c: Check = { plan, e, k, severity, format, type, scan, columns, compiled, query, opts };
  try {
    if (plan.kind === 'map') return await evaluateMap(c);
    if (plan.kind === 'aggregate') return evaluateAggregate(c);
    if (plan.kind === 'freshness') return evaluateFreshness(c);
    if (plan.kind === 'row_count_change') return evaluateRowCountChange(c);
    if (plan.kind === 'custom_sql') return await evaluateCustomSql(c);
    if (plan.kind === 'distinct') return await evaluateDistinct(c);
    return evaluateTableMetadata(c);
  } catch (err) {
    // a cancelled statement aborted the scan's transaction: the scan fails as a whole (custom_sql,
    // inside its own savepoint, fails only its check)
    if (isStatementTimeout(err) && plan.kind !== 'custom_sql') throw err;
    // a data error on a PII column quotes the value (`invalid input syntax for type …: "…"`)
    const message = (err as Error).message;
    return fail(plan.columns.some((col) => opts.masked?.has(col)) ? maskQuoted(message) : message);
  }
}

/** What a masked value reads as in results. */
const MASK = '***';

/** A message with every double-quoted excerpt masked (PostgreSQL quotes the offending value in data errors). */
export function maskQuoted(message: string): string {
  return message.replace(/"(?:[^"\\]|\\.)*"/g, `"${MASK}"`);
}

/** Row-wise checks: counts from the scan (or a grouped query), samples of unexpected values when some failed. */
async function evaluateMap(c: Check): Promise<ExpectationResult> {
  const { e, k, severity, format, type, plan, scan, compiled, query, opts } = c;
  const row = plan.groupedSql ? (await query(plan.groupedSql, plan.params))[0] : scan;
  const a = plan.aliases;
  const element = Number(row[a['element']]);
  const missing = Number(row[a['missing']]);
  const unexpected = Number(row[a['unexpected']]);
  const nullCheck = type === 'expect_column_values_to_not_be_null' || type === 'expect_column_values_to_be_null';
  const nonmissing = nullCheck ? element : element - missing;
  const mostly = typeof k['mostly'] === 'number' ? (k['mostly'] as number) : 1;
  const success = nonmissing === 0 ? true : (nonmissing - unexpected) / nonmissing >= mostly;
  const result: ExpectationResult['result'] = {};
  if (format !== 'BOOLEAN_ONLY') {
    result.element_count = element;
    result.unexpected_count = unexpected;
    result.unexpected_percent = pct(unexpected, nonmissing);
    if (!nullCheck) {
      result.missing_count = missing;
      result.missing_percent = pct(missing, element);
      result.unexpected_percent_total = pct(unexpected, element);
      result.unexpected_percent_nonmissing = pct(unexpected, nonmissing);
    }
    const sizes = sampleSizes(e, format, opts);
    const limit = format === 'COMPLETE' ? sizes.complete : sizes.partial;
    const rows = unexpected > 0 && limit !== 0 ? await samples(plan, compiled, query, limit) : [];
    const show = (c: string, v: unknown) => (opts.masked?.has(c) && v !== null ? MASK : v);
    const values = rows.map((r) =>
      type === 'expect_column_pair_values_a_to_be_greater_than_b'
        ? plan.columns.map((c) => show(c, r[c]))
        : plan.columns.length === 1
          ? show(plan.columns[0], r[plan.columns[0]])
          : Object.fromEntries(plan.columns.map((c) => [c, show(c, r[c])])),
    );
    result.partial_unexpected_list = values.slice(0, sizes.partial);
    if (format === 'COMPLETE') {
      result.unexpected_list = values;
      // cut to WEIR_QUALITY_SAMPLE_MAX: said, so a short list is not read as all of them
      if (sizes.complete !== undefined && unexpected > values.length)
        result.details = { unexpected_list_limit: sizes.complete };
      if (compiled.indexColumn) {
        result.unexpected_index_list = rows.map((r) => ({
          ...Object.fromEntries(plan.columns.map((c) => [c, show(c, r[c])])),
          [compiled.indexColumn!]: show(compiled.indexColumn!, r[compiled.indexColumn!]),
        }));
      }
    }
  }
  return { expectation: e, success, severity, result };
}

/** Aggregate checks: the observed value from the scan, within its bounds. */
function evaluateAggregate(c: Check): ExpectationResult {
  const { e, k, severity, type, plan, scan, opts } = c;
  const a = plan.aliases;
  let observed: unknown;
  if (type === 'expect_column_proportion_of_unique_values_to_be_between') {
    const nonnull = Number(scan[a['nonnull']]);
    observed = nonnull === 0 ? null : Number(scan[a['distinct']]) / nonnull;
  } else observed = scan[a['observed']] ?? null;
  if (type === 'expect_table_row_count_to_equal') {
    return {
      expectation: e,
      success: Number(observed) === Number(k['value']),
      severity,
      result: { observed_value: Number(observed) },
    };
  }
  const success = observed === null ? false : within(observed as number | string, k);
  // the min, max or mean of a PII column is (or may be) one of its values; a proportion is not
  const hidden =
    observed !== null &&
    type !== 'expect_column_proportion_of_unique_values_to_be_between' &&
    plan.columns.some((col) => opts.masked?.has(col));
  return {
    expectation: e,
    success,
    severity,
    result: {
      observed_value: hidden
        ? MASK
        : typeof observed === 'string' && /^-?\d+(\.\d+)?$/.test(observed)
          ? Number(observed)
          : observed,
    },
  };
}

/** freshness: the age of the latest value (or of the last load) against warn_after / error_after. */
function evaluateFreshness(c: Check): ExpectationResult {
  const { e, k, severity, plan, scan, opts } = c;
  const raw = plan.columns.length ? scan[plan.aliases['observed']] : (opts.lastLoadAt ?? null);
  const latest =
    raw === null || raw === undefined
      ? null
      : new Date(typeof raw === 'string' && !/[zZ]|[+-]\d\d(:?\d\d)?$/.test(raw) ? `${raw}Z` : (raw as string | Date));
  if (!latest || Number.isNaN(latest.getTime())) {
    return {
      expectation: e,
      success: false,
      severity,
      result: { observed_value: null, details: { reason: plan.columns.length ? 'no value' : 'never loaded' } },
    };
  }
  const age = ((opts.now ?? new Date()).getTime() - latest.getTime()) / 1000;
  const errorAfter = k['error_after'] !== undefined ? durationSeconds(k['error_after']) : undefined;
  const warnAfter = k['warn_after'] !== undefined ? durationSeconds(k['warn_after']) : undefined;
  const level =
    errorAfter !== undefined && age > errorAfter
      ? 'error'
      : warnAfter !== undefined && age > warnAfter
        ? 'warn'
        : undefined;
  return {
    expectation: e,
    success: level === undefined,
    severity: level ?? severity,
    result: {
      observed_value: {
        latest: plan.columns.some((col) => opts.masked?.has(col)) ? MASK : latest.toISOString(),
        age_seconds: Math.round(age),
      },
      details: { warn_after_seconds: warnAfter ?? null, error_after_seconds: errorAfter ?? null },
    },
  };
}

/** row_count_change_within: the change from the previous run, in percent. */
function evaluateRowCountChange(c: Check): ExpectationResult {
  const { e, k, severity, plan, scan, opts } = c;
  const current = Number(scan[plan.aliases['observed']]);
  const previous = opts.previousRowCount;
  if (previous === null || previous === undefined) {
    return {
      expectation: e,
      success: true,
      severity,
      result: {
        observed_value: null,
        details: { row_count: current, previous_row_count: null, reason: 'no previous run to compare with' },
      },
    };
  }
  const change = previous === 0 ? (current === 0 ? 0 : Infinity) : (100 * Math.abs(current - previous)) / previous;
  const success = change <= Number(k['max_change_percent']);
  return {
    expectation: e,
    success,
    severity,
    result: {
      observed_value: Number.isFinite(change) ? change : null,
      details: { row_count: current, previous_row_count: previous },
    },
  };
}

/** custom_sql: every row the user's query returns is unexpected (run as the reader). */
async function evaluateCustomSql(c: Check): Promise<ExpectationResult> {
  const { e, severity, plan, query, opts, format } = c;
  const n = Number((await query(`SELECT count(*) AS n FROM (${plan.distinctSql}) __weir_custom`, plan.params))[0]['n']);
  const { partial } = sampleSizes(e, format, opts);
  const rows =
    n > 0 && partial > 0
      ? await query(`SELECT * FROM (${plan.distinctSql}) __weir_custom LIMIT ${partial}`, plan.params)
      : [];
  const masked = opts.masked;
  const sample = rows.map((r) =>
    masked?.size
      ? Object.fromEntries(Object.entries(r).map(([c, v]) => [c, masked.has(c) && v !== null ? MASK : v]))
      : r,
  );
  return {
    expectation: e,
    success: n === 0,
    severity,
    result: { unexpected_count: n, partial_unexpected_list: sample },
  };
}

/** Distinct-set checks: the GROUP BY of the column against the value set. */
async function evaluateDistinct(c: Check): Promise<ExpectationResult> {
  const { e, k, severity, plan, query, opts } = c;
  const rows = await query(plan.distinctSql!, plan.params);
  const observed = rows.map((r) => r['value']);
  const hidden = plan.columns.some((col) => opts.masked?.has(col));
  const set = k['value_set'];
  const allowed = Array.isArray(set) ? set : null;
  const same = (x: unknown, y: unknown) =>
    x === y ||
    (typeof x === 'number' && typeof y === 'string' && String(x) === y) ||
    (typeof y === 'number' && typeof x === 'string' && String(y) === x);
  const success = allowed === null ? true : observed.every((v) => allowed.some((s) => same(s, v)));
  return {
    expectation: e,
    success,
    severity,
    result: {
      // a PII column's distinct values: masked, their counts kept (the verdict is on the real values)
      observed_value: hidden ? observed.map(() => MASK) : observed,
      details: { value_counts: rows.map((r) => ({ value: hidden ? MASK : r['value'], count: r['count'] })) },
    },
  };
}

/** Table metadata: a column exists (at its index), the columns match a list in order. */
function evaluateTableMetadata(c: Check): ExpectationResult {
  const { e, k, severity, type, columns } = c;
  const names = columns.map((c) => c.name);
  if (type === 'expect_column_to_exist') {
    const c = k['column'];
    const at = names.indexOf(String(c));
    const idx = k['column_index'];
    const success = at >= 0 && (idx === undefined || idx === null || at === idx);
    return { expectation: e, success, severity, result: {} };
  }
  const list = k['column_list'];
  const success =
    list === null || list === undefined
      ? true
      : Array.isArray(list) && list.length === names.length && list.every((c, i) => c === names[i]);
  const result: ExpectationResult['result'] = { observed_value: names };
  if (!success && Array.isArray(list)) {
    const mismatched = [];
    for (let i = 0; i < Math.max(list.length, names.length); i++) {
      if (list[i] !== names[i])
        mismatched.push({ 'Expected Column Position': i, Expected: list[i] ?? null, Found: names[i] ?? null });
    }
    result.details = { mismatched };
  }
  return { expectation: e, success, severity, result };
}

async function samples(
  plan: CheckPlan,
  compiled: CompiledSuite,
  query: (t: string, v: unknown[]) => Promise<Record<string, unknown>[]>,
  limit?: number,
) {
  const cols = [...new Set([...plan.columns, ...(compiled.indexColumn ? [compiled.indexColumn] : [])])]
    .map((c) => `"${c.replace(/"/g, '""')}"`)
    .join(', ');
  const order = compiled.indexColumn ? ` ORDER BY "${compiled.indexColumn.replace(/"/g, '""')}"` : '';
  const source = plan.distinctSql && plan.groupedSql ? `(${plan.distinctSql}) s` : compiled.table;
  return query(
    `SELECT ${cols} FROM ${source} WHERE ${plan.unexpectedWhere}${order}${limit !== undefined ? ` LIMIT ${limit}` : ''}`,
    plan.params,
  );
}
