/**
 * dbt's Relation and Column objects as templates see them (dbt-postgres: every part quoted with
 * double quotes, a CTE rendered bare).
 */
import { splitArgs } from './jinja';

export type RelationType = 'table' | 'view' | 'cte' | 'materialized_view' | 'external' | null;

const quoted = (s: string) => `"${s.replace(/"/g, '""')}"`;

export class Relation {
  constructor(
    readonly database: string | null,
    readonly schema: string | null,
    readonly identifier: string | null,
    readonly type: RelationType = null,
    readonly includePolicy = { database: true, schema: true, identifier: true },
    readonly quotePolicy = { database: true, schema: true, identifier: true },
    /** Ephemeral models' CTE name (rendered unquoted). */
    readonly cteName?: string,
  ) {}

  static create(...a: unknown[]): Relation {
    const { positional, kwargs } = splitArgs(a);
    const [database, schema, identifier, type] = positional as (string | null)[];
    return new Relation(
      (kwargs['database'] as string | null) ?? database ?? null,
      (kwargs['schema'] as string | null) ?? schema ?? null,
      (kwargs['identifier'] as string | null) ?? identifier ?? null,
      ((kwargs['type'] as RelationType) ?? (type as RelationType)) || null,
    );
  }

  get name(): string | null {
    return this.identifier;
  }
  get table(): string | null {
    return this.identifier;
  }
  get is_table(): boolean {
    return this.type === 'table';
  }
  get is_view(): boolean {
    return this.type === 'view';
  }
  get is_cte(): boolean {
    return this.type === 'cte';
  }
  get is_materialized_view(): boolean {
    return this.type === 'materialized_view';
  }
  get path(): Record<string, string | null> {
    return { database: this.database, schema: this.schema, identifier: this.identifier };
  }
  get can_be_renamed(): boolean {
    return this.type === 'table' || this.type === 'view';
  }
  get can_be_replaced(): boolean {
    return this.type === 'view';
  }

  /** A copy with parts of the path included or left out (`include(database=False)`). */
  include(...a: unknown[]): Relation {
    const { kwargs } = splitArgs(a);
    return new Relation(
      this.database,
      this.schema,
      this.identifier,
      this.type,
      {
        database: (kwargs['database'] as boolean | undefined) ?? this.includePolicy.database,
        schema: (kwargs['schema'] as boolean | undefined) ?? this.includePolicy.schema,
        identifier: (kwargs['identifier'] as boolean | undefined) ?? this.includePolicy.identifier,
      },
      this.quotePolicy,
      this.cteName,
    );
  }

  quote(...a: unknown[]): Relation {
    const { kwargs } = splitArgs(a);
    return new Relation(
      this.database,
      this.schema,
      this.identifier,
      this.type,
      this.includePolicy,
      {
        database: (kwargs['database'] as boolean | undefined) ?? this.quotePolicy.database,
        schema: (kwargs['schema'] as boolean | undefined) ?? this.quotePolicy.schema,
        identifier: (kwargs['identifier'] as boolean | undefined) ?? this.quotePolicy.identifier,
      },
      this.cteName,
    );
  }

  /** `incorporate(path={identifier: …}, type=…)`. */
  incorporate(...a: unknown[]): Relation {
    const { kwargs } = splitArgs(a);
    const p = (kwargs['path'] as Record<string, string | null> | undefined) ?? {};
    return new Relation(
      p['database'] !== undefined ? p['database'] : this.database,
      p['schema'] !== undefined ? p['schema'] : this.schema,
      p['identifier'] !== undefined ? p['identifier'] : this.identifier,
      kwargs['type'] !== undefined ? (kwargs['type'] as RelationType) : this.type,
      this.includePolicy,
      this.quotePolicy,
      this.cteName,
    );
  }

  without_identifier(): Relation {
    return this.include({ identifier: false, __keywords: true });
  }

  render(): string {
    if (this.cteName) return this.cteName;
    const parts: string[] = [];
    const part = (on: boolean, v: string | null, q: boolean) => {
      if (on && v !== null && v !== undefined && v !== '') parts.push(q ? quoted(v) : v);
    };
    part(this.includePolicy.database, this.database, this.quotePolicy.database);
    part(this.includePolicy.schema, this.schema, this.quotePolicy.schema);
    part(this.includePolicy.identifier, this.identifier, this.quotePolicy.identifier);
    return parts.join('.');
  }

  toString(): string {
    return this.render();
  }

  /** The relation a model builds before it swaps (`<identifier>__dbt_tmp`). */
  suffixed(suffix: string, type: RelationType = this.type): Relation {
    return new Relation(
      this.database,
      this.schema,
      `${this.identifier}${suffix}`,
      type,
      this.includePolicy,
      this.quotePolicy,
    );
  }
}

/** dbt-postgres's Column: name, dtype, sizes, and the type checks materializations use. */
export class Column {
  constructor(
    readonly column: string,
    readonly dtype: string,
    readonly char_size: number | null = null,
    readonly numeric_precision: number | null = null,
    readonly numeric_scale: number | null = null,
  ) {}

  static translate_type(t: string): string {
    const TYPES: Record<string, string> = {
      STRING: 'TEXT',
      TIMESTAMP: 'TIMESTAMP',
      FLOAT: 'FLOAT',
      INTEGER: 'INT',
      BOOLEAN: 'BOOLEAN',
    };
    return TYPES[String(t).toUpperCase()] ?? String(t);
  }

  static create(name: string, labelOrDtype: string): Column {
    return new Column(name, Column.translate_type(labelOrDtype));
  }

  static string_type(size?: number | null): string {
    return size ? `character varying(${size})` : 'character varying';
  }

  static numeric_type(dtype: string, precision?: number | null, scale?: number | null): string {
    return precision === null || precision === undefined || scale === null || scale === undefined
      ? dtype
      : `${dtype}(${precision},${scale})`;
  }

  get name(): string {
    return this.column;
  }
  get quoted(): string {
    return quoted(this.column);
  }
  get data_type(): string {
    if (this.is_string()) return Column.string_type(this.char_size);
    if (this.is_numeric()) return Column.numeric_type(this.dtype, this.numeric_precision, this.numeric_scale);
    return this.dtype;
  }
  is_string(): boolean {
    return ['text', 'character varying', 'character', 'varchar'].includes(this.dtype.toLowerCase());
  }
  is_number(): boolean {
    return this.is_integer() || this.is_float() || this.is_numeric();
  }
  is_integer(): boolean {
    return ['smallint', 'integer', 'bigint', 'smallserial', 'serial', 'bigserial', 'int2', 'int4', 'int8'].includes(
      this.dtype.toLowerCase(),
    );
  }
  is_float(): boolean {
    return ['real', 'float4', 'float', 'double precision', 'float8'].includes(this.dtype.toLowerCase());
  }
  is_numeric(): boolean {
    return ['numeric', 'decimal'].includes(this.dtype.toLowerCase());
  }
  string_size(): number {
    if (!this.is_string()) throw new Error('Called string_size() on non-string field!');
    return this.char_size ?? 256;
  }
  can_expand_to(other: Column): boolean {
    if (!this.is_string() || !other.is_string()) return false;
    return this.char_size !== null && other.char_size !== null && other.string_size() > this.string_size();
  }
  literal(value: unknown): string {
    return `${String(value)}::${this.data_type}`;
  }
  toString(): string {
    return `<Column ${this.column} (${this.data_type})>`;
  }
}
