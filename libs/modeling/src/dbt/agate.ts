/**
 * The result tables dbt hands templates (agate's Table): rows addressable by position and by
 * column name, columns with `.name` and `.values()`. A Table is its list of rows, so `for row in
 * table`, `table | length` and `table[0]` work as in dbt.
 */
export class AgateRow extends Array<unknown> {
  static make(names: string[], values: unknown[]): AgateRow {
    const r = new AgateRow();
    r.push(...values);
    names.forEach((n, i) => {
      if (!/^\d+$/.test(n) && !(n in Array.prototype)) (r as unknown as Record<string, unknown>)[n] = values[i];
    });
    return r;
  }
  dict(): Record<string, unknown> {
    return Object.fromEntries(
      Object.keys(this)
        .filter((k) => !/^\d+$/.test(k))
        .map((k) => [k, (this as unknown as Record<string, unknown>)[k]]),
    );
  }
}

export interface AgateColumn {
  name: string;
  data_type: string;
  values(): unknown[];
}

export class AgateTable extends Array<AgateRow> {
  column_names: string[] = [];
  column_types: string[] = [];
  columns: AgateColumn[] & Record<string, AgateColumn> = [] as unknown as AgateColumn[] & Record<string, AgateColumn>;

  static build(names: string[], rows: unknown[][], types: string[] = []): AgateTable {
    const t = new AgateTable();
    for (const r of rows) t.push(AgateRow.make(names, r));
    t.column_names = names;
    t.column_types = names.map((_, i) => types[i] ?? 'Text');
    const cols = names.map((n, i) => ({ name: n, data_type: t.column_types[i], values: () => rows.map((r) => r[i]) }));
    const arr = [...cols] as unknown as AgateColumn[] & Record<string, AgateColumn>;
    for (const c of cols) if (!/^\d+$/.test(c.name) && !(c.name in Array.prototype)) arr[c.name] = c;
    t.columns = arr;
    return t;
  }

  get rows(): AgateRow[] {
    return [...this];
  }

  print_table(): string {
    return '';
  }

  // Array subclasses build new instances through the constructor: keep map/filter plain arrays
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}
