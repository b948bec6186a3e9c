/**
 * Weir's own macros, available in every model as `weir.*`:
 * - `weir.surrogate_key(['a', 'b'])` → md5 of the columns' text (NULL-safe), like dbt_utils.generate_surrogate_key
 * - `weir.dim_date('2020-01-01', '2030-12-31')` → a date dimension SELECT (year, quarter, month, week,
 *   weekday, names, weekend, and an `is_holiday` slot to fill from a holiday calendar)
 */
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const weirMacros = {
  surrogate_key(columns: unknown): string {
    const list = Array.isArray(columns) ? columns : [columns];
    if (list.length === 0 || list.some((c) => typeof c !== 'string' || !COLUMN.test(c))) {
      throw new Error(`weir.surrogate_key expects a list of column names, got ${JSON.stringify(columns)}`);
    }
    return `md5(concat_ws('|', ${(list as string[]).map((c) => `coalesce(${c}::text, '_weir_null_')`).join(', ')}))`;
  },
  dim_date(start: unknown, end: unknown): string {
    if (typeof start !== 'string' || !DATE.test(start) || typeof end !== 'string' || !DATE.test(end)) {
      throw new Error(`weir.dim_date expects two dates 'YYYY-MM-DD', got ${JSON.stringify([start, end])}`);
    }
    return [
      'select',
      "  to_char(d, 'YYYYMMDD')::int as date_key,",
      '  d::date as date_day,',
      '  extract(year from d)::int as year,',
      '  extract(quarter from d)::int as quarter,',
      '  extract(month from d)::int as month,',
      "  trim(to_char(d, 'Month')) as month_name,",
      '  extract(week from d)::int as week_of_year,',
      '  extract(isodow from d)::int as day_of_week,',
      "  trim(to_char(d, 'Day')) as day_name,",
      '  extract(isodow from d) in (6, 7) as is_weekend,',
      '  false as is_holiday',
      `from generate_series(date '${start}', date '${end}', interval '1 day') as d`,
    ].join('\n');
  },
};
