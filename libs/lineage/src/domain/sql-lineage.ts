/**
 * Table and column lineage of SQL statements, from the AST of the real PostgreSQL parser
 * (libpg-query). CTEs (recursive ones, and data-modifying ones read through RETURNING),
 * subqueries, aliases, `*` (expanded when the table's columns are known), joins (USING, NATURAL),
 * set operations, window functions (named windows too), CASE, aggregates, INSERT … SELECT with
 * ON CONFLICT DO UPDATE, CREATE TABLE AS, CREATE VIEW, MERGE, UPDATE … FROM and DELETE … USING.
 * A column that cannot be tied to one table is reported with `table: null` and listed in
 * `unresolved`, never guessed.
 *
 * A plain SELECT (a query, a dbt model's compiled SQL) has lineage to its own output columns: to
 * `opts.target` when one is named (the relation the query produces, a model's for instance, which
 * is then listed as written), else to `table: null`, the query's result.
 */
import { parse } from 'libpg-query';

export type TransformationType = 'DIRECT' | 'INDIRECT';
export type TransformationSubtype =
  'IDENTITY' | 'TRANSFORMATION' | 'AGGREGATION' | 'JOIN' | 'FILTER' | 'GROUP_BY' | 'SORT' | 'WINDOW' | 'CONDITIONAL';

export interface ColumnRefOut {
  table: string | null;
  column: string;
}
export interface ColumnLineageEdge {
  source: ColumnRefOut;
  /** `table` is null for an output column of a plain SELECT without `target`: the query's result. */
  target: { table: string | null; column: string };
  type: TransformationType;
  subtype: TransformationSubtype;
}
export interface SqlLineage {
  tablesRead: string[];
  tablesWritten: string[];
  columnLineage: ColumnLineageEdge[];
  /** References that could not be tied to a table (ambiguous or unknown). */
  unresolved: string[];
}
export interface SqlLineageOptions {
  /** Known columns per table (`schema.table` or `table`), to expand `*` and resolve unqualified columns. */
  schemas?: Record<string, string[]>;
  /** Schema of unqualified table names in the output; unset keeps them unqualified. */
  defaultSchema?: string;
  /**
   * The relation a plain SELECT produces (`schema.table`, e.g. a dbt model's): its output columns
   * are this table's columns, and it is listed as written. Unset: they have `table: null`.
   */
  target?: string;
}

export class SqlParseError extends Error {
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(message);
  }
}

type Node = Record<string, any>;
/** Where an output value comes from: physical (table, column) pairs, with how. */
interface Src {
  table: string | null;
  column: string;
  subtype: TransformationSubtype;
}
interface OutCol {
  name: string;
  srcs: Src[];
}
/** A relation visible in a FROM scope. */
interface Rel {
  alias: string;
  /** physical table name when it is one */
  table?: string;
  /** known output columns (derived relations, or tables with a known schema) */
  cols?: OutCol[];
}
interface Scope {
  rels: Rel[];
  ctes: Map<string, OutCol[]>;
  parent?: Scope;
  /** Named windows of the SELECT (`WINDOW w AS (…)`). */
  windows?: Map<string, Node>;
}
interface Query {
  cols: OutCol[];
  indirect: Src[];
}

const AGGREGATES = new Set([
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'array_agg',
  'string_agg',
  'json_agg',
  'jsonb_agg',
  'json_object_agg',
  'jsonb_object_agg',
  'bool_and',
  'bool_or',
  'every',
  'bit_and',
  'bit_or',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'variance',
  'var_pop',
  'var_samp',
  'percentile_cont',
  'percentile_disc',
  'mode',
  'corr',
  'covar_pop',
  'covar_samp',
  'regr_slope',
  'regr_intercept',
  'listagg',
  'group_concat',
  'collect_set',
  'collect_list',
  'approx_count_distinct',
]);
const RANK = { IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2 } as Record<string, number>;

const unwrap = (n: Node | undefined): [string, Node] => {
  if (!n) return ['', {}];
  const k = Object.keys(n)[0];
  return [k, n[k]];
};
const sval = (n: Node): string => n?.String?.sval ?? n?.sval ?? '';

class Analyzer {
  readonly read = new Set<string>();
  readonly written = new Set<string>();
  readonly edges: ColumnLineageEdge[] = [];
  readonly unresolved = new Set<string>();
  readonly dropped = new Map<string, number>();
  private readonly cteIndirect = new Map<string, Src[]>();
  step = 0;
  readonly renamed = new Map<string, string>();
  private readonly known = new Map<string, string[]>();

  private sqlBytes = Buffer.alloc(0);
  set sql(text: string) {
    this.sqlBytes = Buffer.from(text, 'utf8'); // locations are byte offsets
  }

  /** The source text of a select-list expression starting at `loc` (how upstream names unaliased expressions). */
  text(loc: number | undefined): string | undefined {
    if (loc === undefined) return undefined;
    const rest = this.sqlBytes.subarray(loc).toString('utf8');
    let depth = 0;
    let quote = '';
    for (let i = 0; i < rest.length; i++) {
      const ch = rest[i];
      if (quote) {
        if (ch === quote) quote = '';
        continue;
      }
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) return rest.slice(0, i).trim() || undefined;
        depth--;
      } else if (
        depth === 0 &&
        (ch === ',' || ch === ';' || /^\s(from|where|group|order|limit|union|into)\b/i.test(rest.slice(i, i + 7)))
      )
        return rest.slice(0, i).trim() || undefined;
    }
    return rest.trim() || undefined;
  }

  constructor(private readonly opts: SqlLineageOptions) {
    for (const [t, cols] of Object.entries(opts.schemas ?? {}))
      this.known.set(
        t.toLowerCase(),
        cols.map((c) => c.toLowerCase()),
      );
  }

  tableName(rv: Node): string {
    const parts = [rv.catalogname, rv.schemaname ?? (this.opts.defaultSchema || undefined), rv.relname].filter(
      Boolean,
    ) as string[];
    return parts.join('.').toLowerCase();
  }

  private knownCols(table: string): string[] | undefined {
    return (
      this.known.get(table) ??
      (this.opts.defaultSchema && table.startsWith(`${this.opts.defaultSchema.toLowerCase()}.`)
        ? this.known.get(table.slice(this.opts.defaultSchema.length + 1))
        : undefined)
    );
  }

  /** Analyses one statement; returns the columns of its RETURNING list (for data-modifying CTEs). */
  statement(stmt: Node, root: Scope = { rels: [], ctes: new Map() }): OutCol[] {
    const [kind, s] = unwrap(stmt);
    switch (kind) {
      case 'SelectStmt': {
        const q = this.select(s, root);
        const into = s.intoClause ?? selectBody(s.larg ?? {}).intoClause;
        if (into)
          this.emit(
            this.tableName(into.rel),
            q,
            into.colNames?.map((c: Node) => sval(c).toLowerCase()),
          );
        else {
          // a plain query: lineage to its own output columns (the target's when one is named)
          const target = this.target();
          if (target) this.written.add(target);
          this.emit(target, q);
          this.output = q.cols.map((c) => c.name);
        }
        break;
      }
      case 'InsertStmt': {
        const target = this.tableName(s.relation);
        this.written.add(target);
        const scope = this.withCtes(s.withClause, root);
        const alias = s.relation.alias?.aliasname?.toLowerCase() ?? String(s.relation.relname).toLowerCase();
        const targetCols: string[] | undefined = s.cols?.map((c: Node) => unwrap(c)[1].name.toLowerCase());
        // the inserted row, column by column (what EXCLUDED and RETURNING see)
        let inserted: OutCol[] | undefined;
        if (s.selectStmt) {
          const q = this.select(unwrap(s.selectStmt)[1], scope);
          this.emit(target, q, targetCols);
          const names = targetCols ?? (q.cols.some((c) => c.name === '*') ? undefined : this.knownCols(target));
          if (names || !q.cols.some((c) => c.name === '*'))
            inserted = q.cols.map((c, i) => ({ name: names?.[i] ?? c.name, srcs: c.srcs }));
          // an unexpanded `*`: EXCLUDED.col reads col from the tables behind it, as the wildcard edge says
          else inserted = q.cols;
        }
        const oc = s.onConflictClause;
        if (oc?.action === 'ONCONFLICT_UPDATE') {
          // ON CONFLICT … DO UPDATE SET col = EXCLUDED.col …: an UPDATE of the target from the proposed row
          const cscope: Scope = {
            rels: [
              { alias, table: target },
              { alias: 'excluded', ...(inserted ? { cols: inserted } : {}) },
            ],
            ctes: scope.ctes,
            parent: scope,
          };
          const indirect = oc.whereClause
            ? this.expr(oc.whereClause, cscope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const }))
            : [];
          this.assignments(oc.targetList ?? [], target, cscope, alias, uniqueSrcs(indirect));
        }
        if (!returning(s).length) break;
        const row: Rel = inserted ? { alias, table: target, cols: inserted } : this.tableRel(target, alias, false);
        return this.targets(returning(s), { rels: [row], ctes: scope.ctes, parent: scope });
      }
      case 'CreateTableAsStmt': {
        const target = this.tableName(s.into.rel);
        this.written.add(target);
        const q = this.select(unwrap(s.query)[1], root);
        const names: string[] | undefined = s.into.colNames?.map((c: Node) => sval(c).toLowerCase());
        this.emit(target, q, names);
        break;
      }
      case 'ViewStmt': {
        const target = this.tableName(s.view);
        this.written.add(target);
        const q = this.select(unwrap(s.query)[1], root);
        this.emit(
          target,
          q,
          s.aliases?.map((c: Node) => sval(c).toLowerCase()),
        );
        break;
      }
      case 'CreateStmt':
        this.written.add(this.tableName(s.relation));
        break;
      case 'DropStmt':
        if (s.removeType === 'OBJECT_TABLE' || s.removeType === 'OBJECT_VIEW') {
          for (const o of s.objects ?? []) {
            const name = (unwrap(o)[1].items ?? []).map(sval).join('.').toLowerCase();
            this.dropped.set(
              this.opts.defaultSchema && !name.includes('.')
                ? `${this.opts.defaultSchema.toLowerCase()}.${name}`
                : name,
              this.step,
            );
          }
        }
        break;
      case 'RenameStmt':
        if (s.relation && s.newname && (s.renameType === 'OBJECT_TABLE' || s.renameType === 'OBJECT_VIEW')) {
          const from = this.tableName(s.relation);
          const to = this.tableName({ ...s.relation, relname: s.newname });
          this.renamed.set(from, to);
        }
        break;
      case 'UpdateStmt':
        return this.update(s, root);
      case 'MergeStmt':
        return this.merge(s, root);
      case 'DeleteStmt': {
        const scope = this.withCtes(s.withClause, root);
        const target = this.tableName(s.relation);
        this.written.add(target);
        const inner: Scope = {
          rels: [
            this.tableRel(
              target,
              s.relation.alias?.aliasname?.toLowerCase() ?? String(s.relation.relname).toLowerCase(),
              false,
            ),
          ],
          ctes: scope.ctes,
          parent: scope,
        };
        for (const u of s.usingClause ?? []) this.fromItem(u, inner);
        const filter = s.whereClause
          ? this.expr(s.whereClause, inner, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const }))
          : [];
        if (!returning(s).length) break;
        // the deleted rows, as RETURNING hands them on, shaped by the WHERE
        return this.targets(returning(s), inner).map((c) => ({
          name: c.name,
          srcs: uniqueSrcs([...c.srcs, ...filter]),
        }));
      }
      default:
        // DDL without data flow (DROP, ALTER, COMMENT, …): no lineage
        break;
    }
    return [];
  }

  /** A physical table in a FROM scope, with its columns when they are known. */
  private tableRel(table: string, alias: string, read = true): Rel {
    if (read) this.read.add(table);
    const known = this.knownCols(table);
    return {
      alias,
      table,
      ...(known
        ? { cols: known.map((c) => ({ name: c, srcs: [{ table, column: c, subtype: 'IDENTITY' as const }] })) }
        : {}),
    };
  }

  /** Target columns of an INSERT/CTAS get the select's columns by position (or by name). */
  /** `opts.target`, named as tables are (lower case, `defaultSchema` when unqualified); null when unset. */
  private target(): string | null {
    const t = this.opts.target?.trim().toLowerCase();
    if (!t) return null;
    return t.includes('.') || !this.opts.defaultSchema ? t : `${this.opts.defaultSchema.toLowerCase()}.${t}`;
  }

  /** Output column names of the last plain SELECT (`*` where a relation's columns are unknown). */
  output: string[] | undefined;

  private emit(target: string | null, q: Query, targetCols?: string[]): void {
    q.cols.forEach((c, i) => {
      const name = c.name === '*' ? '*' : (targetCols?.[i] ?? c.name);
      if (!name || name === '?column?') return;
      for (const s of c.srcs) this.edge(s, target, name, typeOf(s.subtype), s.subtype);
    });
    const targets = q.cols
      .map((c, i) => (c.name === '*' ? '*' : (targetCols?.[i] ?? c.name)))
      .filter((n) => n && n !== '?column?');
    for (const s of q.indirect) for (const t of targets) this.edge(s, target, t, 'INDIRECT', s.subtype);
  }

  private readonly edgeKeys = new Set<string>();

  private edge(
    s: Src,
    table: string | null,
    column: string,
    type: TransformationType,
    subtype: TransformationSubtype,
  ): void {
    const key = JSON.stringify([s.table, s.column, table, column, type, subtype]);
    if (this.edgeKeys.has(key)) return;
    this.edgeKeys.add(key);
    this.edges.push({ source: { table: s.table, column: s.column }, target: { table, column }, type, subtype });
  }

  private withCtes(withClause: Node | undefined, scope: Scope): Scope {
    if (!withClause) return scope;
    const ctes = new Map(scope.ctes);
    const inner: Scope = { rels: scope.rels, ctes, parent: scope.parent };
    for (const c of withClause.ctes ?? []) {
      const cte = unwrap(c)[1];
      const name = String(cte.ctename).toLowerCase();
      const [qk, qn] = unwrap(cte.ctequery);
      const aliases: string[] | undefined = cte.aliascolnames?.map((a: Node) => sval(a).toLowerCase());
      if (qk !== 'SelectStmt') {
        // data-modifying CTE (INSERT / UPDATE / DELETE … RETURNING): a statement, read through its RETURNING list
        const returned = this.statement(cte.ctequery, inner);
        ctes.set(
          name,
          returned.map((col, i) => ({ name: aliases?.[i] ?? col.name, srcs: col.srcs })),
        );
        continue;
      }
      if (withClause.recursive) {
        // WITH RECURSIVE: the non-recursive branch gives the columns the recursive branch reads back
        ctes.set(name, []);
        if (qn.op && qn.op !== 'SETOP_NONE') {
          // (the seed sees the WITH that belongs to the whole UNION)
          const seed = this.select(selectBody(qn.larg), this.withCtes(qn.withClause, inner));
          ctes.set(
            name,
            seed.cols.map((col, i) => ({ name: aliases?.[i] ?? col.name, srcs: col.srcs })),
          );
        }
      }
      const q = this.select(qn, inner);
      ctes.set(
        name,
        q.cols.map((col, i) => ({ name: aliases?.[i] ?? col.name, srcs: col.srcs })),
      );
      this.cteIndirect.set(name, q.indirect);
    }
    return inner;
  }

  select(s: Node, outer: Scope): Query {
    const scoped = this.withCtes(s.withClause, outer);
    if (s.op && s.op !== 'SETOP_NONE') {
      const l = this.select(selectBody(s.larg), scoped);
      const r = this.select(selectBody(s.rarg), scoped);
      if (s.intoClause) this.written.add(this.tableName(s.intoClause.rel));
      return {
        cols: l.cols.map((c, i) => ({ name: c.name, srcs: uniqueSrcs([...c.srcs, ...(r.cols[i]?.srcs ?? [])]) })),
        indirect: uniqueSrcs([...l.indirect, ...r.indirect]),
      };
    }
    if (s.valuesLists) {
      const rows: Node[][] = s.valuesLists.map((v: Node) => unwrap(v)[1].items ?? []);
      const cols: OutCol[] = (rows[0] ?? []).map((_: Node, i: number) => ({
        name: `column${i + 1}`,
        srcs: [] as Src[],
      }));
      for (const row of rows) row.forEach((item, i) => cols[i]?.srcs.push(...this.expr(item, scoped, 'IDENTITY')));
      return { cols, indirect: [] };
    }
    const scope: Scope = { rels: [], ctes: scoped.ctes, parent: scoped === outer ? outer : scoped };
    if (s.windowClause?.length)
      scope.windows = new Map(s.windowClause.map((w: Node) => [String(unwrap(w)[1].name).toLowerCase(), unwrap(w)[1]]));
    const indirect: Src[] = [];
    if (s.intoClause) this.written.add(this.tableName(s.intoClause.rel));
    for (const f of s.fromClause ?? []) this.fromItem(f, scope, indirect);
    const cols = this.targets(s.targetList ?? [], scope);
    // LIMIT (SELECT …) / OFFSET (SELECT …) decide which rows there are
    for (const l of [s.limitCount, s.limitOffset])
      if (l) indirect.push(...this.expr(l, scope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const })));
    if (s.whereClause)
      indirect.push(...this.expr(s.whereClause, scope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const })));
    if (s.havingClause)
      indirect.push(...this.expr(s.havingClause, scope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const })));
    // GROUP BY 2 / ORDER BY 2 name the second output column
    const positional = (n: Node): Src[] | undefined => {
      const [k, c] = unwrap(n);
      const pos = k === 'A_Const' ? c.ival?.ival : undefined;
      return typeof pos === 'number' && cols[pos - 1] ? cols[pos - 1].srcs : undefined;
    };
    for (const g of s.groupClause ?? [])
      indirect.push(
        ...(positional(g) ?? this.expr(g, scope, 'GROUP_BY', cols)).map((x) => ({
          ...x,
          subtype: 'GROUP_BY' as const,
        })),
      );
    for (const o of s.sortClause ?? []) {
      const node = unwrap(o)[1].node;
      indirect.push(
        ...(positional(node) ?? this.expr(node, scope, 'SORT', cols)).map((x) => ({ ...x, subtype: 'SORT' as const })),
      );
    }
    return { cols: cols.map((c) => ({ name: c.name, srcs: uniqueSrcs(c.srcs) })), indirect: uniqueSrcs(indirect) };
  }

  /** The output columns of a target list (SELECT list, RETURNING list). */
  private targets(list: Node[], scope: Scope): OutCol[] {
    const cols: OutCol[] = [];
    for (const t of list) {
      const rt = unwrap(t)[1];
      const [vk, vn] = unwrap(rt.val);
      if (vk === 'ColumnRef' && unwrap(vn.fields[vn.fields.length - 1])[0] === 'A_Star') {
        cols.push(
          ...this.star(vn.fields.length > 1 ? sval(vn.fields[vn.fields.length - 2]).toLowerCase() : undefined, scope),
        );
        continue;
      }
      const srcs = this.expr(rt.val, scope, 'IDENTITY');
      const text = this.text(rt.location);
      const named = vk === 'TypeCast' && text && /^cast\s*\(/i.test(text) ? text : defaultName(rt.val);
      cols.push({ name: (rt.name ?? named ?? text ?? '?column?').toLowerCase(), srcs });
    }
    return cols;
  }

  /** `*` or `alias.*`: the known columns of the relations, or a wildcard per physical table. */
  private star(alias: string | undefined, scope: Scope): OutCol[] {
    const rels = alias
      ? scope.rels.filter((r) => r.alias === alias || (r.table && (r.table === alias || r.table.endsWith(`.${alias}`))))
      : scope.rels;
    const out: OutCol[] = [];
    for (const r of rels) {
      if (r.cols) out.push(...r.cols);
      else if (r.table) out.push({ name: '*', srcs: [{ table: r.table, column: '*', subtype: 'IDENTITY' }] });
    }
    return out;
  }

  private fromItem(n: Node, scope: Scope, indirect: Src[] = []): void {
    const [k, f] = unwrap(n);
    if (k === 'RangeVar') {
      const name = String(f.relname).toLowerCase();
      const alias = f.alias?.aliasname?.toLowerCase();
      if (!f.schemaname && scope.ctes.has(name)) {
        const cols = scope.ctes.get(name)!;
        const renamed = f.alias?.colnames?.map((c: Node) => sval(c).toLowerCase());
        scope.rels.push({
          alias: alias ?? name,
          cols: renamed ? cols.map((c, i) => ({ name: renamed[i] ?? c.name, srcs: c.srcs })) : cols,
        });
        // filters, joins and groupings inside the CTE shape every row read from it
        for (const x of this.cteIndirect.get(name) ?? []) indirect.push(x);
        return;
      }
      scope.rels.push(this.tableRel(this.tableName(f), alias ?? name));
      return;
    }
    if (k === 'RangeTableSample') {
      // t TABLESAMPLE method (args) [REPEATABLE (seed)]: the table, sampled; the arguments decide which rows
      this.fromItem(f.relation, scope, indirect);
      for (const a of [...(f.args ?? []), ...(f.repeatable ? [f.repeatable] : [])])
        indirect.push(...this.expr(a, scope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const })));
      return;
    }
    if (k === 'RangeSubselect') {
      const q = this.select(
        unwrap(f.subquery)[1],
        f.lateral ? scope : { rels: [], ctes: scope.ctes, parent: scope.parent },
      );
      const renamed = f.alias?.colnames?.map((c: Node) => sval(c).toLowerCase());
      scope.rels.push({
        alias: f.alias?.aliasname?.toLowerCase() ?? '',
        cols: q.cols.map((c, i) => ({ name: renamed?.[i] ?? c.name, srcs: c.srcs })),
      });
      indirect.push(...q.indirect);
      return;
    }
    if (k === 'JoinExpr') {
      const before = scope.rels.length;
      this.fromItem(f.larg, scope, indirect);
      const middle = scope.rels.length;
      this.fromItem(f.rarg, scope, indirect);
      const natural: string[] = [];
      if (f.isNatural) {
        // NATURAL JOIN: the columns both sides have (known only when their columns are)
        const [l, r] = [scope.rels.slice(before, middle), scope.rels.slice(middle)];
        if ([...l, ...r].some((x) => !x.cols))
          this.unresolved.add(`NATURAL JOIN columns (a side's columns are unknown)`);
        const names = (rels: Rel[]) => new Set(rels.flatMap((x) => (x.cols ?? []).map((c) => c.name)));
        const rn = names(r);
        natural.push(...[...names(l)].filter((n) => n !== '*' && rn.has(n)));
      }
      const using: string[] = (f.usingClause ?? []).map((u: Node) => sval(u).toLowerCase());
      for (const col of [...using, ...natural]) {
        for (const r of scope.rels.slice(before)) {
          const known = r.cols?.find((c) => c.name === col);
          if (known) indirect.push(...known.srcs.map((x) => ({ ...x, subtype: 'JOIN' as const })));
          // USING names a column each side has; NATURAL's come only from the columns known
          else if (r.table && !r.cols && using.includes(col))
            indirect.push({ table: r.table, column: col, subtype: 'JOIN' });
        }
      }
      if (f.quals) indirect.push(...this.expr(f.quals, scope, 'JOIN').map((x) => ({ ...x, subtype: 'JOIN' as const })));
      return;
    }
    if (k === 'RangeFunction') {
      for (const fn of f.functions ?? [])
        for (const item of unwrap(fn)[1].items ?? []) this.expr(item, scope, 'TRANSFORMATION');
      scope.rels.push({ alias: f.alias?.aliasname?.toLowerCase() ?? '', cols: [] });
    }
  }

  /** Sources of an expression. `outputs` lets GROUP BY / ORDER BY refer to output names or positions. */
  expr(n: Node | undefined, scope: Scope, how: TransformationSubtype, outputs?: OutCol[]): Src[] {
    if (!n) return [];
    const [k, e] = unwrap(n);
    const sub = (x: Node | undefined, h: TransformationSubtype = how === 'IDENTITY' ? 'TRANSFORMATION' : how) =>
      this.expr(x, scope, h, outputs);
    switch (k) {
      case 'ColumnRef':
        return this.column(e.fields, scope, how, outputs);
      case 'A_Const':
      case 'ParamRef':
      case 'SQLValueFunction':
        return [];
      case 'TypeCast':
        return this.expr(e.arg, scope, how === 'IDENTITY' ? 'TRANSFORMATION' : how);
      case 'FuncCall': {
        const fname = (e.funcname ?? []).map(sval).pop()?.toLowerCase() ?? '';
        const agg = AGGREGATES.has(fname) || e.agg_star || e.agg_filter || e.agg_order;
        const inner: TransformationSubtype = agg ? 'AGGREGATION' : how === 'IDENTITY' ? 'TRANSFORMATION' : how;
        const star: Src[] = e.agg_star
          ? scope.rels
              .filter((r) => r.table)
              .map((r) => ({ table: r.table!, column: '*', subtype: 'AGGREGATION' as const }))
          : [];
        const out = star.concat(
          (e.args ?? []).flatMap((a: Node) =>
            this.expr(
              a,
              scope,
              how === 'IDENTITY' || how === 'TRANSFORMATION' || how === 'AGGREGATION' ? upgrade(how, inner) : how,
            ),
          ),
        );
        if (e.agg_filter)
          out.push(...this.expr(e.agg_filter, scope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const })));
        if (e.over) {
          // the window's partition and order columns shape the value: INDIRECT (WINDOW) for this column;
          // OVER w / OVER (w ORDER BY …) take them from the named window too
          const windows: Node[] = [e.over];
          for (let w: Node | undefined = e.over, hops = 0; w && hops < 10; hops++) {
            const ref = w.refname ?? (w === e.over && !w.partitionClause && !w.orderClause ? w.name : undefined);
            w = ref ? this.window(String(ref).toLowerCase(), scope) : undefined;
            if (w) windows.push(w);
          }
          for (const w of windows) {
            for (const p of w.partitionClause ?? [])
              out.push(...this.expr(p, scope, 'WINDOW').map((x) => ({ ...x, subtype: 'WINDOW' as const })));
            for (const o of w.orderClause ?? [])
              out.push(
                ...this.expr(unwrap(o)[1].node, scope, 'WINDOW').map((x) => ({ ...x, subtype: 'WINDOW' as const })),
              );
          }
        }
        for (const o of e.agg_order ?? []) out.push(...this.expr(unwrap(o)[1].node, scope, inner));
        return out;
      }
      case 'CaseExpr': {
        const out: Src[] = [];
        if (e.arg) out.push(...sub(e.arg, 'CONDITIONAL').map((x) => ({ ...x, subtype: 'CONDITIONAL' as const })));
        for (const w of e.args ?? []) {
          const cw = unwrap(w)[1];
          out.push(
            ...sub(cw.expr, 'CONDITIONAL').map((x) => ({ ...x, subtype: 'CONDITIONAL' as const })),
            ...sub(cw.result),
          );
        }
        if (e.defresult) out.push(...sub(e.defresult));
        return out;
      }
      case 'SubLink': {
        const q = this.select(unwrap(e.subselect)[1], { rels: [], ctes: scope.ctes, parent: scope });
        const out: Src[] = e.testexpr ? sub(e.testexpr) : [];
        // a scalar (or ARRAY) subquery's value flows through; EXISTS / IN only filter
        if (e.subLinkType === 'EXPR_SUBLINK' || e.subLinkType === 'ARRAY_SUBLINK')
          out.push(...q.cols.flatMap((c) => c.srcs.map((s) => ({ ...s, subtype: upgrade(how, s.subtype) }))));
        else
          out.push(
            ...q.cols.flatMap((c) =>
              c.srcs.map((s) => ({ ...s, subtype: RANK[how] === undefined ? how : ('FILTER' as const) })),
            ),
          );
        // the subquery's own filters and joins shape the value as well
        for (const x of q.indirect) out.push(x);
        return out;
      }
      default: {
        // operators, boolean expressions, COALESCE, NULLIF, ROW, arrays, …: every column inside contributes
        const out: Src[] = [];
        const visit = (v: unknown): void => {
          if (Array.isArray(v)) v.forEach(visit);
          else if (v && typeof v === 'object') {
            const keys = Object.keys(v as object);
            if (keys.length === 1 && /^[A-Z]/.test(keys[0])) out.push(...sub(v as Node));
            else for (const kk of keys) visit((v as Node)[kk]);
          }
        };
        visit(e);
        return out;
      }
    }
  }

  /** A named window of the enclosing SELECT. */
  private window(name: string, scope: Scope): Node | undefined {
    for (let sc: Scope | undefined = scope; sc; sc = sc.parent) {
      const w = sc.windows?.get(name);
      if (w) return w;
    }
    return undefined;
  }

  private column(fields: Node[], scope: Scope, how: TransformationSubtype, outputs?: OutCol[]): Src[] {
    const names = fields.map((f) => (unwrap(f)[0] === 'A_Star' ? '*' : sval(f).toLowerCase()));
    const col = names[names.length - 1];
    const qual = names.slice(0, -1);
    if (col === '*')
      return this.star(qual.length ? qual[qual.length - 1] : undefined, scope).flatMap((c) =>
        c.srcs.map((s) => ({ ...s, subtype: upgrade(how, s.subtype) })),
      );
    for (let sc: Scope | undefined = scope; sc; sc = sc.parent) {
      let rels: Rel[];
      if (qual.length) {
        const alias = qual[qual.length - 1];
        const full = qual.join('.');
        rels = sc.rels.filter(
          (r) => r.alias === alias || r.table === full || (r.table && r.table.endsWith(`.${full}`)),
        );
      } else {
        const having = sc.rels.filter((r) => r.cols?.some((c) => c.name === col || c.name === '*'));
        const exact = sc.rels.filter((r) => r.cols?.some((c) => c.name === col));
        const open = sc.rels.filter((r) => !r.cols && r.table);
        rels =
          exact.length === 1
            ? exact
            : having.length === 1 && open.length === 0
              ? having
              : exact.length === 0 && having.length === 0 && open.length === 1
                ? open
                : exact.length + open.length > 1 || having.length > 1
                  ? sc.rels
                  : [];
        if (rels.length > 1) {
          this.unresolved.add(col);
          return [{ table: null, column: col, subtype: how }];
        }
      }
      if (rels.length === 0) {
        if (!qual.length && outputs) {
          const o = outputs.find((c) => c.name === col);
          if (o) return o.srcs.map((s) => ({ ...s, subtype: how }));
        }
        continue;
      }
      const r = rels[0];
      if (r.cols) {
        const c = r.cols.find((x) => x.name === col);
        if (c) return c.srcs.map((s) => ({ ...s, subtype: upgrade(how, s.subtype) }));
        const star = r.cols.filter((x) => x.name === '*');
        if (star.length)
          return star.flatMap((x) =>
            x.srcs
              .filter((s) => s.table)
              .map((s) => ({ table: s.table, column: col, subtype: upgrade(how, s.subtype) })),
          );
        if (r.table) return [{ table: r.table, column: col, subtype: how }];
        this.unresolved.add(`${r.alias}.${col}`);
        return [{ table: null, column: col, subtype: how }];
      }
      if (r.table) return [{ table: r.table, column: col, subtype: how }];
      // a relation with neither known columns nor a table (EXCLUDED after an unexpanded *): say so
      this.unresolved.add(`${r.alias}.${col}`);
      return [{ table: null, column: col, subtype: how }];
    }
    this.unresolved.add([...qual, col].join('.'));
    return [{ table: null, column: col, subtype: how }];
  }

  private update(s: Node, root: Scope): OutCol[] {
    const scope0 = this.withCtes(s.withClause, root);
    const target = this.tableName(s.relation);
    this.written.add(target);
    const scope: Scope = {
      rels: [
        {
          alias: s.relation.alias?.aliasname?.toLowerCase() ?? String(s.relation.relname).toLowerCase(),
          table: target,
        },
      ],
      ctes: scope0.ctes,
      parent: scope0,
    };
    const indirect: Src[] = [];
    for (const f of s.fromClause ?? []) this.fromItem(f, scope, indirect);
    if (s.whereClause)
      indirect.push(...this.expr(s.whereClause, scope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const })));
    const assigned = this.assignments(s.targetList ?? [], target, scope, scope.rels[0].alias, uniqueSrcs(indirect));
    if (!returning(s).length) return [];
    // RETURNING sees the updated row: an assigned column has its new value
    const rscope: Scope = {
      rels: [this.rowAfter(target, scope.rels[0].alias, assigned, false), ...scope.rels.slice(1)],
      ctes: scope.ctes,
      parent: scope0,
    };
    return this.targets(returning(s), rscope).map((c) => ({
      name: c.name,
      srcs: uniqueSrcs([...c.srcs, ...indirect]),
    }));
  }

  /** SET assignments of UPDATE / MERGE. `indirect` (the WHERE or ON columns) shapes every assigned column. Returns the columns. */
  private assignments(
    list: Node[],
    target: string,
    scope: Scope,
    targetAlias: string,
    indirect: Src[] = [],
  ): Map<string, Src[]> {
    const assigned = new Map<string, Src[]>();
    const multi = new Map<Node, Query>();
    for (const t of list) {
      const rt = unwrap(t)[1];
      const ind: Node[] = rt.indirection ?? [];
      // `SET t.col = …` (the target's own qualifier) names col; `SET arr[1]` / `SET comp.f` assign into column arr / comp
      const column = String(
        rt.name === targetAlias && ind.length === 1 && unwrap(ind[0])[0] === 'String' ? sval(ind[0]) : rt.name,
      ).toLowerCase();
      const [vk, vn] = unwrap(rt.val);
      let srcs: Src[];
      if (vk === 'MultiAssignRef') {
        // SET (a, b) = (SELECT x, y …) or = ROW(x, y): by position
        const [sk, sn] = unwrap(vn.source);
        if (sk === 'SubLink') {
          if (!multi.has(vn.source))
            multi.set(vn.source, this.select(unwrap(sn.subselect)[1], { rels: [], ctes: scope.ctes, parent: scope }));
          const q = multi.get(vn.source)!;
          srcs = [...(q.cols[vn.colno - 1]?.srcs ?? []), ...q.indirect];
        } else {
          srcs = this.expr((sn.args ?? [])[vn.colno - 1], scope, 'IDENTITY');
        }
      } else {
        srcs = this.expr(rt.val, scope, 'IDENTITY');
      }
      for (const src of srcs) this.edge(src, target, column, typeOf(src.subtype), src.subtype);
      for (const src of indirect) this.edge(src, target, column, 'INDIRECT', src.subtype);
      assigned.set(column, [...(assigned.get(column) ?? []), ...srcs]);
    }
    return assigned;
  }

  /**
   * The target's row as RETURNING sees it after an UPDATE or MERGE: a written column from what was
   * written (with its old value too when some rows may keep it), the others as they were.
   */
  private rowAfter(target: string, alias: string, written: Map<string, Src[]>, mayKeepOld: boolean): Rel {
    const known = this.knownCols(target);
    const old = (c: string): Src => ({ table: target, column: c, subtype: 'IDENTITY' });
    const cols: OutCol[] = [...new Set([...(known ?? []), ...written.keys()])].map((c) => ({
      name: c,
      srcs: uniqueSrcs(written.has(c) ? [...(mayKeepOld ? [old(c)] : []), ...written.get(c)!] : [old(c)]),
    }));
    // columns not known: the written ones as written, any other through the table
    if (!known) cols.push({ name: '*', srcs: [old('*')] });
    return { alias, table: target, cols };
  }

  private merge(s: Node, root: Scope): OutCol[] {
    const scope0 = this.withCtes(s.withClause, root);
    const target = this.tableName(s.relation);
    this.written.add(target);
    const scope: Scope = {
      rels: [
        {
          alias: s.relation.alias?.aliasname?.toLowerCase() ?? String(s.relation.relname).toLowerCase(),
          table: target,
        },
      ],
      ctes: scope0.ctes,
      parent: scope0,
    };
    const sourceScope: Scope = { rels: [], ctes: scope0.ctes, parent: scope0 };
    this.fromItem(s.sourceRelation, sourceScope);
    scope.rels.push(...sourceScope.rels);
    const on = s.joinCondition
      ? this.expr(s.joinCondition, scope, 'JOIN').map((x) => ({ ...x, subtype: 'JOIN' as const }))
      : [];
    const alias = scope.rels[0].alias;
    // what each clause writes, for RETURNING (a row may also keep its old value)
    const written = new Map<string, Src[]>();
    const wrote = (col: string, srcs: Src[]) => written.set(col, [...(written.get(col) ?? []), ...srcs]);
    for (const w of s.mergeWhenClauses ?? []) {
      const m = unwrap(w)[1];
      const cond = m.condition
        ? this.expr(m.condition, scope, 'FILTER').map((x) => ({ ...x, subtype: 'FILTER' as const }))
        : [];
      if (m.commandType === 'CMD_UPDATE') {
        for (const [col, srcs] of this.assignments(
          m.targetList ?? [],
          target,
          scope,
          alias,
          uniqueSrcs([...on, ...cond]),
        ))
          wrote(col, srcs);
      } else if (m.commandType === 'CMD_INSERT') {
        const values: Node[] = m.values ?? [];
        // INSERT VALUES (…) without a column list fills the target's columns in order (when they are known)
        const cols: string[] = m.targetList?.length
          ? m.targetList.map((t: Node) => String(unwrap(t)[1].name).toLowerCase())
          : (this.knownCols(target) ?? []);
        if (!m.targetList?.length && !cols.length && values.length)
          this.unresolved.add(`${target}(columns of INSERT without a column list)`);
        values.forEach((v, i) => {
          const col = cols[i];
          if (!col) return;
          const srcs = this.expr(v, scope, 'IDENTITY');
          for (const src of srcs) this.edge(src, target, col, typeOf(src.subtype), src.subtype);
          for (const src of uniqueSrcs([...on, ...cond])) this.edge(src, target, col, 'INDIRECT', src.subtype);
          wrote(col, srcs);
        });
      }
    }
    // MERGE … RETURNING (PostgreSQL 17): the target's row and the source's, as the statement sees them
    if (!returning(s).length) return [];
    const rscope: Scope = {
      rels: [this.rowAfter(target, alias, written, true), ...scope.rels.slice(1)],
      ctes: scope.ctes,
      parent: scope0,
    };
    return this.targets(returning(s), rscope).map((c) => ({ name: c.name, srcs: uniqueSrcs([...c.srcs, ...on]) }));
  }
}

/** One entry per (table, column, subtype): keeps lists bounded however often a CTE is reused. */
function uniqueSrcs(xs: Src[]): Src[] {
  const seen = new Set<string>();
  const out: Src[] = [];
  for (const x of xs) {
    const k = `${x.table}\u0000${x.column}\u0000${x.subtype}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(x);
    }
  }
  return out;
}

/** A statement's RETURNING list (`returningClause.exprs` since PostgreSQL 18's parser, `returningList` before). */
function returning(s: Node): Node[] {
  return s.returningClause?.exprs ?? s.returningList ?? [];
}

/** Set-operation branches come as bare SelectStmt bodies. */
function selectBody(n: Node): Node {
  return n?.SelectStmt ?? n;
}

const typeOf = (st: TransformationSubtype): TransformationType =>
  st === 'IDENTITY' || st === 'TRANSFORMATION' || st === 'AGGREGATION' ? 'DIRECT' : 'INDIRECT';

/** The subtype of a value seen through another expression or relation: INDIRECT stays INDIRECT, else the strongest DIRECT one. */
function upgrade(how: TransformationSubtype, inner: TransformationSubtype): TransformationSubtype {
  if (RANK[how] === undefined) return how;
  if (RANK[inner] === undefined) return inner;
  return RANK[inner] > RANK[how] ? inner : how;
}

/** PostgreSQL's output name for an unaliased expression: the column name, or the function name. */
function defaultName(val: Node): string | undefined {
  const [k, e] = unwrap(val);
  if (k === 'ColumnRef') return sval(e.fields[e.fields.length - 1]);
  if (k === 'TypeCast' && unwrap(e.arg)[0] === 'ColumnRef') return defaultName(e.arg);
  return undefined;
}

/** Lineage of one or more statements. Tables both written and read by a script are intermediate: listed as written only. */
export async function sqlLineage(sql: string, opts: SqlLineageOptions = {}): Promise<SqlLineage> {
  return (await analyse(sql, opts)).lineage;
}

/**
 * The output column names of the (last) plain SELECT of `sql` — a dbt model's columns, so that a
 * model reading it can expand its `*` — with `*` where a relation's columns are unknown; undefined
 * when there is no plain SELECT.
 */
export async function sqlOutputColumns(sql: string, opts: SqlLineageOptions = {}): Promise<string[] | undefined> {
  return (await analyse(sql, opts)).output;
}

async function analyse(sql: string, opts: SqlLineageOptions): Promise<{ lineage: SqlLineage; output?: string[] }> {
  let ast: { stmts?: { stmt: Node }[] };
  try {
    ast = (await parse(sql)) as unknown as { stmts?: { stmt: Node }[] };
  } catch (e) {
    const err = e as Error & { sqlDetails?: { cursorPosition?: number } };
    throw new SqlParseError(err.message, err.sqlDetails?.cursorPosition);
  }
  const a = new Analyzer(opts);
  a.sql = sql;
  const steps: { read: Set<string>; written: Set<string> }[] = [];
  for (const s of ast.stmts ?? []) {
    a.read.clear();
    a.written.clear();
    a.step = steps.length;
    a.statement(s.stmt);
    steps.push({ read: new Set(a.read), written: new Set(a.written) });
  }
  // across a script: a table written by one statement and read by a later one is intermediate;
  // a dropped table is gone; a renamed one is known by its new name
  const intermediate = new Set<string>();
  steps.forEach((st, i) =>
    st.written.forEach((t) => steps.slice(i + 1).some((later) => later.read.has(t)) && intermediate.add(t)),
  );
  const rename = (t: string) => {
    for (let n = 0; n < 10 && a.renamed.has(t); n++) t = a.renamed.get(t)!;
    return t;
  };
  const lastWrite = (t: string) => steps.reduce((last, st, i) => (st.written.has(t) ? i : last), -1);
  const gone = (t: string) => a.dropped.has(t) && a.dropped.get(t)! > lastWrite(t);
  const written = new Set(
    steps
      .flatMap((st) => [...st.written])
      .filter((t) => !intermediate.has(t) && !gone(t))
      .map(rename),
  );
  const read = new Set(
    steps
      .flatMap((st) => [...st.read])
      .filter((t) => !intermediate.has(t) || steps.some((st) => st.read.has(t) && st.written.has(t))),
  );
  return {
    lineage: {
      tablesRead: [...read].sort(),
      tablesWritten: [...written].sort(),
      columnLineage: a.edges,
      unresolved: [...a.unresolved].sort(),
    },
    output: a.output,
  };
}

/** A relation a query reads, as a dbt project knows it: its columns (a seed's header), or the SQL that makes it (a model's). */
export interface UpstreamRelation {
  /** `schema.table`, as the query names it. */
  relation: string;
  columns?: string[];
  sql?: string;
}

/**
 * Known columns of the relations a query reads (for `schemas`), worked out from the relations
 * themselves, dependencies first: a relation's own `columns`, else the output columns of its SQL
 * (read with what is known so far). One whose columns stay unknown (an unexpandable `*`, SQL the
 * parser refuses) is left out, never half-listed: a `*` over it stays a wildcard, and a column of
 * it that is not qualified stays unresolved in a join. `known` (columns the caller knows) wins.
 */
export async function upstreamSchemas(
  upstream: UpstreamRelation[],
  known: Record<string, string[]> = {},
): Promise<Record<string, string[]>> {
  const schemas: Record<string, string[]> = {};
  const lower = (xs: Record<string, string[]>) =>
    Object.fromEntries(Object.entries(xs).map(([t, cols]) => [t.toLowerCase(), cols]));
  const given = lower(known);
  for (const u of upstream) {
    const rel = u.relation.toLowerCase();
    if (given[rel]) continue;
    let cols = u.columns;
    if (!cols && u.sql) {
      try {
        cols = await sqlOutputColumns(u.sql, { schemas: { ...schemas, ...given } });
      } catch (e) {
        if (!(e instanceof SqlParseError)) throw e;
      }
    }
    if (cols?.length && !cols.includes('*')) schemas[rel] = cols.map((c) => c.toLowerCase());
  }
  return { ...schemas, ...given };
}
