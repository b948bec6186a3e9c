import { canonicalType, Expectation, ExpectationError, ExpectationType } from './expectations';
import { compileRowCondition } from './row-condition';

/** A column of the table a suite runs on. */
export interface ColumnInfo {
  name: string;
  /** PostgreSQL data_type (information_schema), e.g. `integer`, `text`, `timestamp without time zone`. */
  type: string;
}

/** How one expectation is answered by the compiled SQL. */
export interface CheckPlan {
  index: number;
  type: ExpectationType;
  expectation: Expectation;
  kind: 'map' | 'aggregate' | 'table' | 'distinct' | 'freshness' | 'row_count_change' | 'custom_sql';
  /** Columns shown in unexpected values / index lists. */
  columns: string[];
  /** Aliases of this check's values in the single scan row. */
  aliases: Record<string, string>;
  /** For uniqueness checks: its own grouped query (window count), same aliases. */
  groupedSql?: string;
  /** For map checks: predicate of an unexpected row (sample queries). */
  unexpectedWhere?: string;
  /** For distinct-set checks: the value counts query. */
  distinctSql?: string;
  /** Compile error: the check reports it instead of running. */
  error?: string;
  /** Bound values of this check's own queries (groupedSql, distinctSql, unexpectedWhere): $1… */
  params: unknown[];
}

export interface CompiledSuite {
  /** ONE SELECT answering every row-wise and aggregate check on the table. */
  scanSql: string;
  params: unknown[];
  plans: CheckPlan[];
  table: string;
  /** Index column for unexpected_index_list (`pk_index` in GX fixtures), if present. */
  indexColumn?: string;
  /** Profile metric name → scan alias (null ratios, numeric mean/min/max, distinct counts). */
  profile: Record<string, string>;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

const UNITS: Record<string, number> = {
  weeks: 604_800_000,
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1000,
};

/**
 * GX evaluation parameters ({"$PARAMETER": "now() - timedelta(days=1)"}, `datetime(2020, 1, 1)`),
 * parsed from a small grammar, never evaluated as code. Other values pass through.
 */
export function resolveParameter(v: unknown, now: Date = new Date()): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v) || !('$PARAMETER' in v)) return v;
  const expr = String((v as { $PARAMETER: unknown }).$PARAMETER).replace(/\s+/g, '');
  const dt = /^datetime\((\d+),(\d+),(\d+)(?:,(\d+))?(?:,(\d+))?(?:,(\d+))?\)$/.exec(expr);
  if (dt) {
    const [y, mo, d, h, mi, sec] = dt.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
    return new Date(Date.UTC(y, mo - 1, d, h, mi, sec)).toISOString().replace('Z', '').replace('.000', '');
  }
  const m = /^now\(\)(?:([+-])timedelta\(([a-z]+)=([\d*.]+)\))?$/.exec(expr);
  if (m) {
    let t = now.getTime();
    if (m[1]) {
      const unit = UNITS[m[2]];
      if (!unit) throw new ExpectationError(`unsupported timedelta unit ${m[2]}`);
      const amount = m[3].split('*').reduce((a, b) => a * Number(b), 1);
      if (!Number.isFinite(amount)) throw new ExpectationError(`bad timedelta amount ${m[3]}`);
      t += (m[1] === '-' ? -1 : 1) * amount * unit;
    }
    return new Date(t).toISOString().replace('Z', '');
  }
  throw new ExpectationError(
    `unsupported $PARAMETER expression ${JSON.stringify(expr)} (now(), now() ± timedelta(unit=n), datetime(y, m, d[, h, mi, s]))`,
  );
}

/** `3600`, `{count: 2, period: 'hour'}` or `"2 hours"` → seconds. */
export function durationSeconds(v: unknown, what = 'duration'): number {
  const periods: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };
  if (typeof v === 'number' && v >= 0) return v;
  if (v && typeof v === 'object' && typeof (v as { count?: unknown }).count === 'number') {
    const p = String((v as { period?: unknown }).period ?? 'second').replace(/s$/, '');
    if (periods[p]) return (v as { count: number }).count * periods[p];
  }
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*$/.exec(v);
    if (m) return Number(m[1]) * periods[m[2]];
  }
  throw new ExpectationError(`${what} must be seconds, "2 hours" or {count, period}`);
}

function num(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new ExpectationError(`${what} must be a number`);
}

/**
 * Compiles a suite into as few scans as possible: all map and aggregate expectations become
 * aggregates with FILTER clauses in one SELECT; uniqueness checks get a grouped window query
 * each; distinct-set checks a GROUP BY. Identifiers are quoted after being checked against the
 * table's columns; values are bound parameters.
 */
export function compileSuite(
  table: { schema: string; table: string },
  columns: ColumnInfo[],
  expectations: Expectation[],
  opts: { indexColumn?: string; profile?: boolean; distinctColumns?: string[]; masked?: ReadonlySet<string> } = {},
): CompiledSuite {
  const colSet = new Set(columns.map((c) => c.name));
  const colTypes = new Map(columns.map((c) => [c.name, c.type]));
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));
  const from = `${q(table.schema)}.${q(table.table)}`;
  const params: unknown[] = [];
  const select: string[] = [];
  const plans: CheckPlan[] = [];
  const indexColumn = opts.indexColumn && colSet.has(opts.indexColumn) ? opts.indexColumn : undefined;
  let scanFrom = 0;
  const shared = new Map<string, string>();

  expectations.forEach((e, index) => {
    const type = canonicalType(e.type);
    const base: CheckPlan = {
      index,
      type: (type ?? e.type) as ExpectationType,
      expectation: e,
      kind: 'map',
      columns: [],
      aliases: {},
      params: [],
    };
    // values of this check are numbered $L1, $L2… and renumbered for the scan (offset) or its own queries
    const local: unknown[] = base.params;
    const p = (v: unknown) => {
      local.push(v);
      return `$L${local.length}`;
    };
    try {
      if (!type) throw new ExpectationError(`unknown expectation type ${JSON.stringify(e.type)}`);
      const k = Object.fromEntries(Object.entries(e.kwargs ?? {}).map(([key, v]) => [key, resolveParameter(v)]));
      if (
        k['mostly'] !== undefined &&
        k['mostly'] !== null &&
        !(typeof k['mostly'] === 'number' && k['mostly'] >= 0 && k['mostly'] <= 1)
      ) {
        throw new ExpectationError('mostly must be a number greater than or equal to 0 and less than or equal to 1');
      }
      const col = (name: string): string => {
        const v = k[name];
        if (typeof v !== 'string') throw new ExpectationError(`${name} is required`);
        if (!colSet.has(v)) throw new ExpectationError(`column ${JSON.stringify(v)} does not exist`);
        return v;
      };
      const colList = (): string[] => {
        const v = k['column_list'];
        if (!Array.isArray(v) || v.length === 0) throw new ExpectationError('column_list is required');
        for (const c of v)
          if (typeof c !== 'string' || !colSet.has(c))
            throw new ExpectationError(`column ${JSON.stringify(c)} does not exist`);
        return v as string[];
      };
      let rc = 'TRUE';
      if (typeof k['row_condition'] === 'string' && k['row_condition'].trim() !== '') {
        const parser = k['condition_parser'];
        if (
          parser !== undefined &&
          parser !== 'pandas' &&
          parser !== 'great_expectations' &&
          parser !== 'great_expectations__experimental__'
        ) {
          throw new ExpectationError(
            `condition_parser ${JSON.stringify(parser)} is not supported (pandas, great_expectations)`,
          );
        }
        rc = compileRowCondition(k['row_condition'], colTypes, local, q).replace(/\$(\d+)/g, '$L$1');
      }
      const alias = (name: string) => {
        const a = `c${index}_${name}`;
        base.aliases[name] = a;
        return a;
      };
      // identical parameter-free aggregates (row counts, null counts) are computed once and shared
      const add = (name: string, rawExpr: string) => {
        const expr = rawExpr.replace(/\(WHERE TRUE AND /g, '(WHERE ').replace(/ FILTER \(WHERE TRUE\)/g, '');
        if (!expr.includes('$L') && shared.has(expr)) {
          base.aliases[name] = shared.get(expr)!;
          return;
        }
        const a = alias(name);
        select.push(`${expr} AS ${a}`);
        if (!expr.includes('$L')) shared.set(expr, a);
      };
      const isTextual = (c: string) => /char|text/.test(typeOf.get(c) ?? '');

      switch (type) {
        case 'expect_column_values_to_not_be_null':
        case 'expect_column_values_to_be_null':
        case 'expect_column_values_to_be_in_set':
        case 'expect_column_values_to_not_be_in_set':
        case 'expect_column_values_to_be_between':
        case 'expect_column_value_lengths_to_be_between':
        case 'expect_column_values_to_match_regex': {
          const c = col('column');
          const qc = q(c);
          base.columns = [c];
          let domain = `${qc} IS NOT NULL`;
          let bad: string;
          if (type === 'expect_column_values_to_not_be_null') {
            domain = 'TRUE';
            bad = `${qc} IS NULL`;
          } else if (type === 'expect_column_values_to_be_null') {
            domain = 'TRUE';
            bad = `${qc} IS NOT NULL`;
          } else if (type === 'expect_column_values_to_be_in_set' || type === 'expect_column_values_to_not_be_in_set') {
            const set = k['value_set'];
            if (!Array.isArray(set)) throw new ExpectationError('value_set must be a list');
            const list = set.length ? `${qc} IN (${set.map((v) => p(v)).join(', ')})` : 'FALSE';
            bad = type === 'expect_column_values_to_be_in_set' ? `NOT (${list})` : list;
          } else if (type === 'expect_column_values_to_be_between') {
            const lo = k['min_value'];
            const hi = k['max_value'];
            if ((lo === undefined || lo === null) && (hi === undefined || hi === null))
              throw new ExpectationError('min_value or max_value is required');
            const conds: string[] = [];
            if (lo !== undefined && lo !== null) conds.push(`${qc} ${k['strict_min'] ? '>' : '>='} ${p(lo)}`);
            if (hi !== undefined && hi !== null) conds.push(`${qc} ${k['strict_max'] ? '<' : '<='} ${p(hi)}`);
            bad = `NOT COALESCE(${conds.join(' AND ')}, FALSE)`;
          } else if (type === 'expect_column_value_lengths_to_be_between') {
            const lo = num(k['min_value'] ?? k['value'], 'min_value');
            const hi = num(k['max_value'] ?? k['value'], 'max_value');
            if (lo === undefined && hi === undefined) throw new ExpectationError('min_value or max_value is required');
            const conds: string[] = [];
            if (lo !== undefined) conds.push(`char_length(${qc}::text) ${k['strict_min'] ? '>' : '>='} ${p(lo)}`);
            if (hi !== undefined) conds.push(`char_length(${qc}::text) ${k['strict_max'] ? '<' : '<='} ${p(hi)}`);
            bad = `NOT (${conds.join(' AND ')})`;
          } else {
            if (typeof k['regex'] !== 'string') throw new ExpectationError('regex is required');
            bad = `NOT (${isTextual(c) ? qc : `${qc}::text`} ~ ${p(k['regex'])})`;
          }
          add('element', `count(*) FILTER (WHERE ${rc})`);
          add('missing', `count(*) FILTER (WHERE ${rc} AND ${qc} IS NULL)`);
          add('unexpected', `count(*) FILTER (WHERE ${rc} AND ${domain} AND ${bad})`);
          base.unexpectedWhere = `${rc} AND ${domain} AND ${bad}`;
          break;
        }
        case 'expect_column_pair_values_a_to_be_greater_than_b': {
          const a = col('column_A');
          const b = col('column_B');
          base.columns = [a, b];
          const ignore = k['ignore_row_if'] ?? 'both_values_are_missing';
          const domain =
            ignore === 'either_value_is_missing'
              ? `${q(a)} IS NOT NULL AND ${q(b)} IS NOT NULL`
              : ignore === 'both_values_are_missing'
                ? `NOT (${q(a)} IS NULL AND ${q(b)} IS NULL)`
                : 'TRUE';
          const bad = `NOT COALESCE(${q(a)} ${k['or_equal'] ? '>=' : '>'} ${q(b)}, FALSE)`;
          add('element', `count(*) FILTER (WHERE ${rc})`);
          add('missing', `count(*) FILTER (WHERE ${rc} AND NOT (${domain}))`);
          add('unexpected', `count(*) FILTER (WHERE ${rc} AND ${domain} AND ${bad})`);
          base.unexpectedWhere = `${rc} AND ${domain} AND ${bad}`;
          break;
        }
        case 'expect_select_column_values_to_be_unique_within_record': {
          const cols = colList();
          base.columns = cols;
          const ignore = k['ignore_row_if'] ?? 'all_values_are_missing';
          const domain =
            ignore === 'any_value_is_missing'
              ? cols.map((c) => `${q(c)} IS NOT NULL`).join(' AND ')
              : `NOT (${cols.map((c) => `${q(c)} IS NULL`).join(' AND ')})`;
          const pairs: string[] = [];
          for (let i = 0; i < cols.length; i++)
            for (let j = i + 1; j < cols.length; j++) pairs.push(`${q(cols[i])} = ${q(cols[j])}`);
          const bad = `COALESCE(${pairs.join(' OR ') || 'FALSE'}, FALSE)`;
          add('element', `count(*) FILTER (WHERE ${rc})`);
          add('missing', `count(*) FILTER (WHERE ${rc} AND NOT (${domain}))`);
          add('unexpected', `count(*) FILTER (WHERE ${rc} AND ${domain} AND ${bad})`);
          base.unexpectedWhere = `${rc} AND ${domain} AND ${bad}`;
          break;
        }
        case 'expect_column_values_to_be_unique':
        case 'expect_compound_columns_to_be_unique': {
          const cols = type === 'expect_column_values_to_be_unique' ? [col('column')] : colList();
          base.columns = cols;
          const ignore = k['ignore_row_if'] ?? (cols.length === 1 ? 'any_value_is_missing' : 'all_values_are_missing');
          const domain =
            ignore === 'any_value_is_missing'
              ? cols.map((c) => `${q(c)} IS NOT NULL`).join(' AND ')
              : `NOT (${cols.map((c) => `${q(c)} IS NULL`).join(' AND ')})`;
          const keys = cols.map(q).join(', ');
          const inner = `SELECT *, count(*) OVER (PARTITION BY ${keys}) AS __weir_n FROM ${from} WHERE ${rc}`;
          base.aliases = { element: 'element', missing: 'missing', unexpected: 'unexpected' };
          base.groupedSql = `SELECT count(*) AS element, count(*) FILTER (WHERE NOT (${domain})) AS missing, count(*) FILTER (WHERE ${domain} AND __weir_n > 1) AS unexpected FROM (${inner}) s`;
          base.unexpectedWhere = `${domain} AND __weir_n > 1`;
          base.distinctSql = `SELECT * FROM (${inner}) s`; // sample source for unexpected rows
          break;
        }
        case 'expect_column_mean_to_be_between':
        case 'expect_column_min_to_be_between':
        case 'expect_column_max_to_be_between': {
          const c = col('column');
          base.kind = 'aggregate';
          base.columns = [c];
          const fn =
            type === 'expect_column_mean_to_be_between'
              ? 'avg'
              : type === 'expect_column_min_to_be_between'
                ? 'min'
                : 'max';
          // the mean of a text column holding numbers: cast (a non-number raises, reported as the check's error)
          const arg = fn === 'avg' && isTextual(c) ? `NULLIF(${q(c)}, '')::double precision` : q(c);
          add('observed', `${fn}(${arg}) FILTER (WHERE ${rc})`);
          break;
        }
        case 'expect_column_proportion_of_unique_values_to_be_between': {
          const c = col('column');
          base.kind = 'aggregate';
          base.columns = [c];
          add('distinct', `count(DISTINCT ${q(c)}) FILTER (WHERE ${rc})`);
          add('nonnull', `count(${q(c)}) FILTER (WHERE ${rc})`);
          break;
        }
        case 'expect_column_distinct_values_to_be_in_set': {
          const c = col('column');
          base.kind = 'distinct';
          base.columns = [c];
          base.distinctSql = `SELECT ${q(c)} AS value, count(*)::int AS count FROM ${from} WHERE ${rc} AND ${q(c)} IS NOT NULL GROUP BY ${q(c)} ORDER BY ${q(c)}`;
          break;
        }
        case 'expect_table_row_count_to_be_between':
        case 'expect_table_row_count_to_equal':
          if (
            type === 'expect_table_row_count_to_equal' &&
            !(Number.isInteger(k['value']) && (k['value'] as number) >= 0)
          ) {
            throw new ExpectationError(`value ${JSON.stringify(k['value'])} is not a valid integer`);
          }
          num(k['min_value'], 'min_value');
          num(k['max_value'], 'max_value');
          base.kind = 'aggregate';
          add('observed', `count(*) FILTER (WHERE ${rc})`);
          break;
        case 'expect_column_to_exist':
        case 'expect_table_columns_to_match_ordered_list':
          base.kind = 'table';
          break;
        case 'relationships': {
          // every non-null value exists in another table's column (referential integrity)
          const c = col('column');
          const to = k['to'];
          const field = k['field'];
          if (typeof to !== 'string' || !/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/.test(to))
            throw new ExpectationError('to must be a dataset name or schema.table');
          if (typeof field !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(field))
            throw new ExpectationError('field must be a column name');
          const [ts, tt] = to.includes('.') ? to.split('.') : ['raw', to];
          base.columns = [c];
          const bad = `NOT EXISTS (SELECT 1 FROM ${q(ts)}.${q(tt)} __weir_ref WHERE __weir_ref.${q(field)} = ${from}.${q(c)})`;
          add('element', `count(*) FILTER (WHERE ${rc})`);
          add('missing', `count(*) FILTER (WHERE ${rc} AND ${q(c)} IS NULL)`);
          add('unexpected', `count(*) FILTER (WHERE ${rc} AND ${q(c)} IS NOT NULL AND ${bad})`);
          base.unexpectedWhere = `${rc} AND ${q(c)} IS NOT NULL AND ${bad}`;
          break;
        }
        case 'freshness': {
          // age of max(column) — or of the last successful load when no column is given
          base.kind = 'freshness';
          if (k['column'] !== undefined) {
            const c = col('column');
            base.columns = [c];
            add('observed', `max(${q(c)}) FILTER (WHERE ${rc})`);
          }
          for (const key of ['warn_after', 'error_after']) if (k[key] !== undefined) durationSeconds(k[key], key);
          if (k['warn_after'] === undefined && k['error_after'] === undefined)
            throw new ExpectationError('warn_after or error_after is required');
          break;
        }
        case 'row_count_change_within': {
          base.kind = 'row_count_change';
          const max = num(k['max_change_percent'], 'max_change_percent');
          if (max === undefined || max < 0) throw new ExpectationError('max_change_percent (>= 0) is required');
          add('observed', `count(*) FILTER (WHERE ${rc})`);
          break;
        }
        case 'custom_sql': {
          // a read-only SELECT returning the failing rows; {table} is the table under test
          base.kind = 'custom_sql';
          const sql = k['sql'];
          if (typeof sql !== 'string' || !/^\s*(select|with)\b/i.test(sql))
            throw new ExpectationError('sql must be a SELECT (or WITH … SELECT) returning the failing rows');
          const body = sql.trim().replace(/;\s*$/, '');
          if (body.includes(';')) throw new ExpectationError('sql must be one statement');
          base.distinctSql = body.replace(/\{table\}/g, from);
          break;
        }
      }
    } catch (err) {
      base.error = (err as Error).message;
    }
    // the scan gets this check's values after the ones already there
    const offset = params.length;
    for (let i = scanFrom; i < select.length; i++)
      select[i] = select[i].replace(/\$L(\d+)/g, (_m, n) => `$${offset + Number(n)}`);
    if (select.length > scanFrom) params.push(...local);
    scanFrom = select.length;
    for (const key of ['groupedSql', 'unexpectedWhere', 'distinctSql'] as const) {
      if (base[key]) base[key] = base[key]!.replace(/\$L(\d+)/g, (_m, n) => `$${n}`);
    }
    plans.push(base);
  });
  // profile metrics for anomaly detection ride along in the same scan: null ratio of every
  // column, mean/min/max of numeric ones but PII (`masked`: a min or max is a value), distinct
  // counts where asked for
  const profile: Record<string, string> = {};
  if (opts.profile) {
    select.push(`count(*) AS p_rows`);
    columns.forEach((c, i) => {
      select.push(`count(${q(c.name)}) AS p${i}_nonnull`);
      profile[`null_ratio(${c.name})`] = `p${i}_nonnull`;
      if (/^(smallint|integer|bigint|numeric|real|double precision)/.test(c.type) && !opts.masked?.has(c.name)) {
        for (const fn of ['avg', 'min', 'max']) {
          select.push(`${fn}(${q(c.name)}) AS p${i}_${fn}`);
          profile[`${fn === 'avg' ? 'mean' : fn}(${c.name})`] = `p${i}_${fn}`;
        }
      }
      if (opts.distinctColumns?.includes(c.name)) {
        select.push(`count(DISTINCT ${q(c.name)}) AS p${i}_distinct`);
        profile[`distinct_count(${c.name})`] = `p${i}_distinct`;
      }
    });
  }
  const scanSql = select.length ? `SELECT ${select.join(',\n       ')}\n  FROM ${from}` : '';
  return { scanSql, params, plans, table: from, indexColumn, profile };
}
