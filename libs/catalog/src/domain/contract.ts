import { patternProblem } from './pattern';
/** Column types a contract may use, as PostgreSQL spells them. `numeric` may carry `(p,s)`, `varchar`/`char` a length `(n)`. */
export const BASE_TYPES = [
  'text',
  'varchar',
  'char',
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
  'boolean',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'json',
  'jsonb',
  'bytea',
] as const;
export type BaseType = (typeof BASE_TYPES)[number];

/** Element types an array column may not have (nested JSON belongs in one `jsonb` value). */
const NO_ARRAY_OF: readonly BaseType[] = ['json', 'jsonb'];

/** Longest `varchar(n)`/`char(n)`/`maxLength` PostgreSQL allows. */
export const MAX_LENGTH = 10_485_760;

/** Every type a contract accepts, as the error for an unknown type lists them. */
export const SUPPORTED_TYPES =
  'text, varchar(n), char(n), smallint, integer, bigint, numeric, numeric(p,s), real, double precision, boolean, ' +
  'date, time, timestamp, timestamptz, interval, uuid, json, jsonb, bytea, and arrays of these (but json/jsonb) as <type>[] (e.g. text[], bigint[])';

/** One column of a dataset contract. */
export interface ColumnContract {
  name: string;
  /** One of {@link SUPPORTED_TYPES}: `text`, `varchar(n)`, `numeric(p,s)`, `bigint[]`… */
  type: string;
  /** Whether NULL is allowed; when a contract is saved an omitted value becomes true (false for a primary key column). */
  nullable: boolean;
  primaryKey?: boolean;
  /** Allowed values (compared on the coerced value's text form). */
  allowed?: string[];
  /** Regular expression the value must match (JavaScript syntax, unanchored unless you anchor it). */
  pattern?: string;
  /** Maximum length in characters (text only); the column becomes varchar(n). */
  maxLength?: number;
  /**
   * Personal data: shown in clear to admin keys only — masked for other keys in previews, dead
   * letters and exports, masked for every key in quality evidence, never logged.
   */
  pii?: boolean;
  description?: string;
}

/** The columns of a dataset, in table order. */
export interface DatasetContract {
  columns: ColumnContract[];
}

/** A contract as a client may send it: `nullable` may be left out. */
export interface DatasetContractInput {
  columns: (Omit<ColumnContract, 'nullable'> & { nullable?: boolean })[];
}

export interface ParsedType {
  base: BaseType;
  precision?: number;
  scale?: number;
  /** `varchar(n)` / `char(n)`: the length (char without one is char(1), as in PostgreSQL). */
  length?: number;
  /** `<type>[]`: a one-dimensional array of `base`. */
  array?: boolean;
}

const TYPE_RE = /^\s*([a-z]+(?:\s+precision)?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*(\[\s*\])?\s*$/i;
/** Column names: letters, digits and `_`, case kept (dbt seeds keep `sTaTuS` as written); always quoted in SQL. */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const unknownType = (type: unknown) => `unknown type ${JSON.stringify(type)} (supported: ${SUPPORTED_TYPES})`;

/** Parses a contract type; returns an error message instead of throwing. */
export function parseType(type: string): ParsedType | string {
  const m = TYPE_RE.exec(typeof type === 'string' ? type : '');
  if (!m) return unknownType(type);
  const base = m[1].toLowerCase().replace(/\s+/, ' ') as BaseType;
  if (!(BASE_TYPES as readonly string[]).includes(base)) return unknownType(type);
  const out: ParsedType = { base };
  if (m[4] !== undefined) {
    if (NO_ARRAY_OF.includes(base)) return `type ${base}[] is not supported: keep a JSON array in one ${base} value`;
    out.array = true;
  }
  if (m[2] !== undefined) {
    if (base === 'numeric') {
      const precision = Number(m[2]);
      const scale = m[3] === undefined ? 0 : Number(m[3]);
      if (precision < 1 || precision > 1000) return `numeric precision must be 1..1000 (got ${precision})`;
      if (scale > precision) return `numeric scale ${scale} exceeds precision ${precision}`;
      return { ...out, precision, scale };
    }
    if (base === 'varchar' || base === 'char') {
      if (m[3] !== undefined) return `type ${base} takes one length, ${base}(n)`;
      const length = Number(m[2]);
      if (!Number.isSafeInteger(length) || length < 1 || length > MAX_LENGTH)
        return `${base}(n) length must be 1..${MAX_LENGTH} (got ${m[2]})`;
      return { ...out, length };
    }
    return `type ${base} takes no (precision, scale) or length`;
  }
  if (base === 'char') return { ...out, length: 1 };
  return out;
}

/** The PostgreSQL type of a parsed contract type (element type for arrays). */
function sqlBase(t: ParsedType, maxLength?: number): string {
  switch (t.base) {
    case 'numeric':
      return t.precision !== undefined ? `numeric(${t.precision},${t.scale ?? 0})` : 'numeric';
    case 'text':
      return maxLength ? `varchar(${maxLength})` : 'text';
    case 'varchar':
      return t.length !== undefined ? `varchar(${t.length})` : 'varchar';
    case 'char':
      return `char(${t.length ?? 1})`;
    case 'timestamp':
      return 'timestamp without time zone';
    case 'timestamptz':
      return 'timestamp with time zone';
    default:
      return t.base;
  }
}

/** The PostgreSQL column type for a contract column. */
export function sqlType(col: ColumnContract): string {
  const t = parseType(col.type);
  if (typeof t === 'string') throw new Error(t);
  return t.array ? `${sqlBase(t)}[]` : sqlBase(t, col.maxLength);
}

/** A contract with its defaults filled in: `nullable` omitted is true (false for a primary key column). */
export function withDefaults(contract: DatasetContractInput | DatasetContract): DatasetContract {
  if (!contract || !Array.isArray(contract.columns)) return contract as DatasetContract;
  return {
    ...contract,
    columns: contract.columns.map((c) =>
      c && typeof c === 'object' && c.nullable === undefined
        ? { ...c, nullable: !c.primaryKey }
        : (c as ColumnContract),
    ),
  };
}

/** Every problem with a contract, as messages naming the column; empty when it is valid. */
export function contractProblems(contract: DatasetContract | DatasetContractInput | undefined): string[] {
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
    if (c.nullable !== undefined && typeof c.nullable !== 'boolean')
      out.push(`${at}: nullable must be true or false (default true)`);
    if (c.primaryKey && c.nullable) out.push(`${at}: a primary key column cannot be nullable`);
    if (c.primaryKey && typeof t !== 'string' && t.base === 'json' && !t.array)
      out.push(`${at}: a json column cannot be part of the primary key (json has no equality; use jsonb)`);
    if (c.maxLength !== undefined) {
      if (!Number.isInteger(c.maxLength) || c.maxLength < 1 || c.maxLength > MAX_LENGTH)
        out.push(`${at}: maxLength must be an integer 1..${MAX_LENGTH}`);
      else if (typeof t !== 'string' && (t.base !== 'text' || t.array))
        out.push(`${at}: maxLength applies to text columns only (varchar(n) and char(n) carry their own length)`);
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
  smallint: ['integer', 'bigint', 'numeric', 'real', 'double precision'],
  integer: ['bigint', 'numeric', 'double precision'],
  bigint: ['numeric'],
  real: ['double precision'],
  date: ['timestamp', 'timestamptz'],
  timestamp: ['timestamptz'],
  varchar: ['text'],
  json: ['text'],
};

/** Unbounded strings: a value of any type casts to one without loss. */
const isUnboundedString = (t: ParsedType, maxLength?: number) =>
  !t.array && ((t.base === 'text' && !maxLength) || (t.base === 'varchar' && t.length === undefined));

/** Whether every value of type `a` (with maxLength `am`) is a value of type `b` (`bm`), unchanged. */
function widensType(a: ParsedType, b: ParsedType, am?: number, bm?: number): boolean {
  if (isUnboundedString(b, bm) && a.base !== 'char') return true; // char(n) -> text drops trailing blanks
  if (!!a.array !== !!b.array) return false;
  // text with maxLength n is varchar(n)
  const len = (t: ParsedType, m?: number) => (t.base === 'text' ? m : t.length);
  const stringy = (t: ParsedType) => t.base === 'text' || t.base === 'varchar';
  if (stringy(a) && stringy(b)) {
    const bl = len(b, bm);
    const al = len(a, am);
    return bl === undefined || (al !== undefined && bl >= al);
  }
  if (a.base === b.base) {
    if (a.base === 'numeric') {
      if (b.precision === undefined) return true;
      if (a.precision === undefined) return false;
      return (b.scale ?? 0) >= (a.scale ?? 0) && b.precision - (b.scale ?? 0) >= a.precision - (a.scale ?? 0);
    }
    if (a.base === 'char') return a.length === b.length;
    return true;
  }
  return (WIDER[a.base] ?? []).includes(b.base) && !(b.base === 'numeric' && b.precision !== undefined);
}

function widens(from: ColumnContract, to: ColumnContract): boolean {
  return widensType(parseType(from.type) as ParsedType, parseType(to.type) as ParsedType, from.maxLength, to.maxLength);
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
