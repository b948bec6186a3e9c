import { compileContract, ColumnContract } from '@weir/catalog';

/** A proposed contract from sample records. */
export interface Inference {
  fields: string[];
  columns: ColumnContract[];
  mapping: Record<string, { from: string }>;
  candidateKeys: string[][];
}

/** Types a key is usually made of (amounts and timestamps that happen to be unique are not keys). */
const KEY_TYPES = new Set(['integer', 'bigint', 'uuid', 'text']);

const ORDER = [
  'boolean',
  'integer',
  'bigint',
  'numeric',
  'date',
  'timestamp',
  'timestamptz',
  'uuid',
  'jsonb',
  'text',
] as const;

function fits(type: string, value: string): boolean {
  const c = compileContract({ columns: [{ name: 'v', type, nullable: true }] });
  return typeof c.encode([value]) === 'string';
}

/**
 * How a field's name becomes a column's:
 * - `fold` (inferred contracts, `infer` and drift policy `evolve` alike): the name PostgreSQL gives
 *   the field written unquoted — trimmed and lower-cased (`customerId` → `customerid`,
 *   `sTaTuS` → `status`); every run of characters other than a–z, 0–9 and `_` becomes one `_`,
 *   leading and trailing `_` are dropped, a name starting with a digit gets `c_`, an empty one is
 *   `column`, at most 63 characters.
 * - `exact` (dbt seeds with `quote_columns` true, dbt-postgres's default): the header kept as
 *   written when it is a valid identifier (letters, digits, `_`); otherwise folded as above.
 */
export type ColumnNaming = 'fold' | 'exact';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The column name of a field under the `fold` rule (see {@link ColumnNaming}). */
export function foldName(field: string): string {
  const s = field
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const n = s === '' ? 'column' : /^[a-z_]/.test(s) ? s : `c_${s}`;
  return n.slice(0, 63);
}

/** A valid, unused column name for a source field (`_2`, `_3`… when the name is taken). */
export function columnName(field: string, taken: Set<string>, naming: ColumnNaming = 'fold'): string {
  const s = naming === 'exact' && IDENT.test(field) && !field.startsWith('__weir') ? field : foldName(field);
  let n = s;
  for (let i = 2; taken.has(n); i++) n = `${s.slice(0, 60)}_${i}`;
  taken.add(n);
  return n;
}

/**
 * Infers a contract: for each field, the narrowest type every non-empty sample value fits
 * (boolean < integer < bigint < numeric < date < timestamp < timestamptz < uuid < text; objects → jsonb),
 * nullable when a value is missing or empty, candidate keys = columns unique and never null.
 */
export function inferContract(
  fields: string[],
  records: Record<string, unknown>[],
  naming: ColumnNaming = 'fold',
): Inference {
  const taken = new Set<string>();
  const columns: ColumnContract[] = [];
  const mapping: Record<string, { from: string }> = {};
  const candidateKeys: string[][] = [];
  for (const f of fields) {
    const name = columnName(f, taken, naming);
    if (name !== f) mapping[name] = { from: f };
    const values = records.map((r) => r[f]);
    const present = values.filter((v) => v !== null && v !== undefined && v !== '');
    const nullable = present.length < values.length || present.length === 0;
    let type = 'text';
    if (present.some((v) => typeof v === 'object'))
      type = present.every((v) => typeof v === 'object') ? 'jsonb' : 'text';
    else {
      const strs = present.map((v) => String(v).trim());
      for (const t of ORDER) {
        if (t === 'jsonb') continue;
        if (t === 'boolean' && !strs.every((s) => /^(true|false|t|f|yes|no)$/i.test(s))) continue;
        if (t === 'numeric') {
          if (strs.every((s) => /^[+-]?\d+\.\d+$/.test(s) || /^[+-]?\d+$/.test(s))) {
            const scale = Math.max(0, ...strs.map((s) => (s.split('.')[1] ?? '').length));
            const intDigits = Math.max(
              1,
              ...strs.map((s) => s.replace(/^[+-]/, '').split('.')[0].replace(/^0+/, '').length),
            );
            type = `numeric(${Math.min(1000, Math.max(intDigits + scale, 12 + scale, 1))},${scale})`;
            break;
          }
          continue;
        }
        if (strs.length > 0 && strs.every((s) => fits(t, s))) {
          type = t;
          break;
        }
      }
      if (strs.length === 0) type = 'text';
    }
    columns.push({ name, type, nullable });
    const distinct = new Set(present.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))));
    if (!nullable && present.length > 0 && distinct.size === present.length && KEY_TYPES.has(type))
      candidateKeys.push([name]);
  }
  // prefer an id-like key: mark the first candidate named *id as primaryKey
  const key = candidateKeys.find(([c]) => /(^|_)id$/.test(c)) ?? candidateKeys[0];
  if (key) for (const c of columns) if (c.name === key[0]) c.primaryKey = true;
  return { fields, columns, mapping, candidateKeys };
}
