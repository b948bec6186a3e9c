/**
 * A seed's CSV as dbt reads it: RFC 4180 fields, the header as column names, and each column's
 * type inferred as agate infers it for dbt (integer, number, date, timestamp, boolean, text; an
 * empty or `null` field is NULL), mapped to PostgreSQL as dbt-postgres maps them.
 */
export interface SeedTable {
  columns: string[];
  /** PostgreSQL types, one per column. */
  types: string[];
  /** Values as text (null for NULL), one array per row. */
  rows: (string | null)[][];
}

export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  let any = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      any = true;
    } else if (c === delimiter) {
      row.push(field);
      field = '';
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '' || any) rows.push(row);
      row = [];
      field = '';
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (field !== '' || row.length || any) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const NULLS = new Set(['', 'null']);
const INTEGER = /^[-+]?\d+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const ISO_DATETIME_TZ = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/;
const BOOLEAN = /^(true|false)$/i;

/** The PostgreSQL type dbt-postgres gives a seed column with these values. */
export function inferSeedType(values: (string | null)[]): string {
  const present = values.filter((v): v is string => v !== null);
  if (!present.length) return 'text';
  const all = (re: RegExp) => present.every((v) => re.test(v.trim()));
  if (all(INTEGER)) return 'integer';
  if (all(NUMBER)) return 'numeric';
  if (all(DATE)) return 'date';
  if (all(DATETIME)) return 'timestamp without time zone';
  if (all(ISO_DATETIME_TZ)) return 'timestamp with time zone';
  if (all(BOOLEAN)) return 'boolean';
  return 'text';
}

export function readSeed(text: string, delimiter = ','): SeedTable {
  const all = parseCsv(text, delimiter);
  if (!all.length) return { columns: [], types: [], rows: [] };
  const columns = all[0].map((c) => c.trim());
  const rows = all.slice(1).map((r) => columns.map((_, i) => (r[i] === undefined || NULLS.has(r[i]) ? null : r[i])));
  const types = columns.map((_, i) => inferSeedType(rows.map((r) => r[i])));
  return { columns, types, rows };
}
