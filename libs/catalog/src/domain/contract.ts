import { patternProblem } from './pattern';
/** Column types a contract may use, as PostgreSQL spells them. `numeric` may carry `(p,s)`. */
export const BASE_TYPES = [
  'text',
  'integer',
  'bigint',
  'numeric',
  'boolean',
  'date',
  'timestamp',
  'timestamptz',
  'uuid',
  'jsonb',
] as const;
export type BaseType = (typeof BASE_TYPES)[number];

/** One column of a dataset contract. */
export interface ColumnContract {
  name: string;
  /** `text`, `integer`, `bigint`, `numeric`, `numeric(p,s)`, `boolean`, `date`, `timestamp`, `timestamptz`, `uuid`, `jsonb`. */
  type: string;
  nullable: boolean;
  primaryKey?: boolean;
  /** Allowed values (compared on the coerced value's text form). */
  allowed?: string[];
  /** Regular expression the value must match (JavaScript syntax, unanchored unless you anchor it). */
  pattern?: string;
  /** Maximum length in characters (text only); the column becomes varchar(n). */
  maxLength?: number;
  /** Personal data: masked in dead letters and logs. */
  pii?: boolean;
  description?: string;
}

/** The columns of a dataset, in table order. */
export interface DatasetContract {
  columns: ColumnContract[];
}

export interface ParsedType {
  base: BaseType;
  precision?: number;
  scale?: number;
}

const TYPE_RE = /^\s*([a-z]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/i;
/** Column names: letters, digits and `_`, case kept (dbt seeds keep `sTaTuS` as written); always quoted in SQL. */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Parses a contract type; returns an error message instead of throwing. */
export function parseType(type: string): ParsedType | string {
  const m = TYPE_RE.exec(String(type ?? ''));
  if (!m) return `unknown type ${JSON.stringify(type)}`;
  const base = m[1].toLowerCase() as BaseType;
  if (!(BASE_TYPES as readonly string[]).includes(base))
    return `unknown type ${JSON.stringify(type)} (one of ${BASE_TYPES.join(', ')}, numeric(p,s))`;
  if (m[2] !== undefined) {
    if (base !== 'numeric') return `type ${base} takes no (precision, scale)`;
    const precision = Number(m[2]);
    const scale = m[3] === undefined ? 0 : Number(m[3]);
    if (precision < 1 || precision > 1000) return `numeric precision must be 1..1000 (got ${precision})`;
    if (scale > precision) return `numeric scale ${scale} exceeds precision ${precision}`;
    return { base, precision, scale };
  }
  return { base };
}

/** The PostgreSQL column type for a contract column. */
export function sqlType(col: ColumnContract): string {
  const t = parseType(col.type);
  if (typeof t === 'string') throw new Error(t);
  if (t.base === 'numeric' && t.precision !== undefined) return `numeric(${t.precision},${t.scale ?? 0})`;
  if (t.base === 'text' && col.maxLength) return `varchar(${col.maxLength})`;
  if (t.base === 'timestamp') return 'timestamp without time zone';
  if (t.base === 'timestamptz') return 'timestamp with time zone';
  return t.base;
}

/** Every problem with a contract, as messages naming the column; empty when it is valid. */
export function contractProblems(contract: DatasetContract | undefined): string[] {
  const out: string[] = [];
  if (!contract || !Array.isArray(contract.columns) || contract.columns.length === 0)
    return ['a contract needs at least one column'];
  const seen = new Set<string>();
  contract.columns.forEach((c, i) => {
    const at = `column ${i + 1}${c?.name ? ` "${c.name}"` : ''}`;
    if (!c || typeof c.name !== 'string' || !NAME_RE.test(c.name)) {
      out.push(`${at}: name must be letters, digits and underscores (at most 63), not starting with a digit`);
      return;
    }
    if (c.name.startsWith('__weir')) out.push(`${at}: names starting with __weir are reserved`);
    if (seen.has(c.name)) out.push(`${at}: duplicate column name`);
    seen.add(c.name);
    const t = parseType(c.type);
    if (typeof t === 'string') out.push(`${at}: ${t}`);
    if (typeof c.nullable !== 'boolean') out.push(`${at}: nullable must be true or false`);
    if (c.primaryKey && c.nullable) out.push(`${at}: a primary key column cannot be nullable`);
    if (c.maxLength !== undefined) {
      if (!Number.isInteger(c.maxLength) || c.maxLength < 1 || c.maxLength > 10_485_760)
        out.push(`${at}: maxLength must be an integer 1..10485760`);
      else if (typeof t !== 'string' && t.base !== 'text') out.push(`${at}: maxLength applies to text columns only`);
    }
    if (c.pattern !== undefined) {
      const why = typeof c.pattern === 'string' ? patternProblem(c.pattern) : 'pattern must be a string';
      if (why) out.push(`${at}: ${why}`);
    }
    if (
      c.allowed !== undefined &&
      (!Array.isArray(c.allowed) || c.allowed.length === 0 || c.allowed.some((v) => typeof v !== 'string'))
    ) {
      out.push(`${at}: allowed must be a non-empty list of strings`);
    }
  });
  return out;
}

export function primaryKey(contract: DatasetContract): string[] {
  return contract.columns.filter((c) => c.primaryKey).map((c) => c.name);
}

/** How a contract change is classified (as in a schema registry). */
export type ChangeKind = 'initial' | 'none' | 'additive' | 'widening' | 'breaking';

export interface ContractChange {
  kind: ChangeKind;
  /** One line per difference, e.g. `added column note (text, nullable)`. */
  details: string[];
}

const WIDER: Record<string, string[]> = {
  integer: ['bigint', 'numeric'],
  bigint: ['numeric'],
  date: ['timestamp', 'timestamptz'],
  timestamp: ['timestamptz'],
};

function widens(from: ColumnContract, to: ColumnContract): boolean {
  const a = parseType(from.type) as ParsedType;
  const b = parseType(to.type) as ParsedType;
  if (a.base === b.base) {
    if (a.base === 'numeric') {
      if (b.precision === undefined) return true;
      if (a.precision === undefined) return false;
      return (b.scale ?? 0) >= (a.scale ?? 0) && b.precision - (b.scale ?? 0) >= a.precision - (a.scale ?? 0);
    }
    if (a.base === 'text')
      return to.maxLength === undefined || (from.maxLength !== undefined && to.maxLength >= from.maxLength);
    return true;
  }
  if (b.base === 'text' && !to.maxLength) return true;
  return (WIDER[a.base] ?? []).includes(b.base) && !(b.base === 'numeric' && b.precision !== undefined);
}

/**
 * Classifies the change from `before` to `after`: additive (new nullable columns), widening
 * (a type or length that accepts every old value, NOT NULL dropped, a constraint relaxed),
 * breaking (a column removed, narrowed, made required, a new required column, a key change).
 */
export function classifyChange(before: DatasetContract | undefined, after: DatasetContract): ContractChange {
  if (!before)
    return {
      kind: 'initial',
      details: after.columns.map((c) => `column ${c.name} (${c.type}${c.nullable ? ', nullable' : ''})`),
    };
  const details: string[] = [];
  let rank = 0; // 0 none, 1 additive, 2 widening, 3 breaking
  const bump = (r: number, d: string) => {
    rank = Math.max(rank, r);
    details.push(d);
  };
  const old = new Map(before.columns.map((c) => [c.name, c]));
  const now = new Map(after.columns.map((c) => [c.name, c]));
  for (const name of old.keys()) if (!now.has(name)) bump(3, `removed column ${name}`);
  for (const [name, c] of now) {
    const o = old.get(name);
    if (!o) {
      bump(c.nullable ? 1 : 3, `added column ${name} (${c.type}${c.nullable ? ', nullable' : ', required'})`);
      continue;
    }
    if (sqlType(o) !== sqlType(c)) bump(widens(o, c) ? 2 : 3, `column ${name}: type ${sqlType(o)} -> ${sqlType(c)}`);
    if (o.nullable !== c.nullable)
      bump(c.nullable ? 2 : 3, `column ${name}: ${c.nullable ? 'now nullable' : 'now required'}`);
    if (!!o.primaryKey !== !!c.primaryKey)
      bump(3, `column ${name}: ${c.primaryKey ? 'joined' : 'left'} the primary key`);
    if (JSON.stringify(o.allowed ?? null) !== JSON.stringify(c.allowed ?? null)) {
      const relaxed = !c.allowed || (o.allowed ?? []).every((v) => c.allowed!.includes(v));
      bump(relaxed ? 2 : 3, `column ${name}: allowed values changed`);
    }
    if ((o.pattern ?? null) !== (c.pattern ?? null))
      bump(c.pattern ? 3 : 2, `column ${name}: pattern ${c.pattern ? 'changed' : 'removed'}`);
    if (!!o.pii !== !!c.pii || (o.description ?? '') !== (c.description ?? '')) {
      details.push(`column ${name}: ${!!o.pii !== !!c.pii ? 'pii flag' : 'description'} changed`);
    }
  }
  const order = (cs: ColumnContract[]) =>
    cs
      .map((c) => c.name)
      .filter((n) => old.has(n) && now.has(n))
      .join(',');
  if (order(before.columns) !== order(after.columns)) details.push('column order changed');
  const kind: ChangeKind = (['none', 'additive', 'widening', 'breaking'] as const)[rank];
  return { kind, details };
}
