import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { qualifiedTable, quoteIdent, Warehouse, writeAsWriter } from '@weir/platform';
import { GateFailedError, QUALITY_GATE, QualityGate } from '@weir/quality';
import type { CompiledNode, CompiledProject } from '../../domain/compile';
import type { Project } from '../../domain/project';
import type { ProjectOrmEntity } from '../project.orm-entity';
import { BadConfigError, ModelSqlFailedError, SchemaChangedError } from '../../modeling.errors';
import { CompileProjectService } from '../../application/compile-project.service';
import type { StepPatch } from '../../application/modeling.views';
import type { Materializer, StepContext } from '../../application/ports/materializer.port';
import { asSubquery, prepareModelWriter, relationKind, TABLE_KINDS, uniqueKeyOf } from './relations.util';
import { TableViewMaterializer } from './table-view.materializer';

/** `incremental`: new rows staged, audited and applied by strategy (append, merge, delete+insert). */
@Injectable()
export class IncrementalMaterializer implements Materializer {
  private readonly log = new Logger('modeling');

  constructor(
    private readonly warehouse: Warehouse,
    @Inject(QUALITY_GATE) private readonly gate: QualityGate,
    private readonly tables: TableViewMaterializer,
    private readonly compiler: CompileProjectService,
  ) {}

  materialize(ctx: StepContext): Promise<StepPatch> {
    return this.incremental(ctx.entity, ctx.project, ctx.compiled, ctx.node, ctx.fullRefresh);
  }

  /**
   * Incremental models: the first build (or a full refresh) builds the whole table; later builds
   * stage the new rows (is_incremental() is true), audit them, and apply them in one transaction
   * by strategy — append, merge (MERGE on unique_key) or delete+insert — after settling schema
   * changes per on_schema_change (ignore | fail | append_new_columns | sync_all_columns).
   */
  private async incremental(
    p: ProjectOrmEntity,
    project: Project,
    compiled: CompiledProject,
    n: CompiledNode,
    fullRefresh: boolean,
  ): Promise<StepPatch> {
    const cfg = incrementalConfig(n);
    const target = qualifiedTable(n.schema, n.table);
    // an incremental build only ever writes into a table: a view (PostgreSQL would pass the rows
    // through it into its base table) or any other kind of relation is replaced by a full build
    const kind = await relationKind(this.warehouse, target);
    if (kind === undefined || fullRefresh || !TABLE_KINDS.has(kind))
      return this.tables.model(project, compiled, n, cfg.uniqueKey);

    const again = (await this.compiler.compile(p, new Set([n.id]))).compiled.nodes.get(n.id)!;
    const stagingName = `__weir_incr_${n.table}`.slice(0, 63);
    const staging = qualifiedTable(n.schema, stagingName);
    await this.warehouse.query(`DROP TABLE IF EXISTS ${staging}`);
    let dropped = false;
    try {
      const staged = await this.stage(n, again.compiledSql!, staging);
      const cols = await this.columnChanges(n, target, staging, cfg.onSchemaChange);
      const verdict = await this.gate.check({
        dataset: n.name,
        schema: n.schema,
        table: stagingName,
        runId: `build:${n.id}`,
        rows: staged,
      });
      if (!verdict.passed) {
        const errors = verdict.failures.filter((f) => f.severity === 'error').map((f) => f.message);
        throw new GateFailedError(`audit of the new rows failed, nothing was applied: ${errors.join('; ')}`);
      }
      let path = cfg.strategy;
      await this.warehouse.transaction(async (c) => {
        path = await this.apply(c, cfg, target, staging, cols);
        await c.query(`DROP TABLE ${staging}`);
      });
      dropped = true;
      return {
        rowsAffected: String(staged),
        compiledSql: again.compiledSql ?? null,
        refs: {
          strategy: cfg.strategy,
          ...(path !== cfg.strategy ? { applied: path } : {}),
          ...(verdict.runIds?.length ? { qualityRuns: verdict.runIds } : {}),
        },
      };
    } finally {
      if (!dropped) await this.warehouse.query(`DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
    }
  }

  /** The new rows (the model's SQL with is_incremental() true) into an unlogged staging table, as the writer. */
  private async stage(n: CompiledNode, sql: string, staging: string): Promise<number> {
    try {
      await prepareModelWriter(this.warehouse, n, (m) => this.log.warn(m));
      return await writeAsWriter(this.warehouse.pool, `CREATE UNLOGGED TABLE ${staging} AS ${asSubquery(sql)}`, (m) =>
        this.log.warn(m),
      );
    } catch (e) {
      throw new ModelSqlFailedError(`${n.path}: ${(e as Error).message}`);
    }
  }

  /** The target's and the staged columns, and what changed between them (on_schema_change: fail refuses a change). */
  private async columnChanges(
    n: CompiledNode,
    target: string,
    staging: string,
    onSchemaChange: string,
  ): Promise<ColumnChanges> {
    const both = await this.warehouse.query<{ target: boolean; name: string; type: string }>(
      `SELECT attrelid = $1::regclass AS target, attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid IN ($1::regclass, $2::regclass) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [target, staging],
    );
    const have = both.filter((x) => x.target);
    const incoming = both.filter((x) => !x.target);
    const added = incoming.filter((c) => !have.some((h) => h.name === c.name));
    const removed = have.filter((h) => !incoming.some((c) => c.name === h.name));
    if ((added.length || removed.length) && onSchemaChange === 'fail') {
      throw new SchemaChangedError(
        `${n.path}: the columns changed (added ${added.map((c) => c.name).join(', ') || 'none'}; removed ${removed.map((c) => c.name).join(', ') || 'none'}) and on_schema_change is fail`,
      );
    }
    return { have, incoming, added, removed };
  }

  /** In the apply transaction: settles the columns, then applies the staged rows by strategy; returns the path taken. */
  private async apply(
    c: PoolClient,
    cfg: IncrementalConfig,
    target: string,
    staging: string,
    cols: ColumnChanges,
  ): Promise<string> {
    const { uniqueKey, strategy, onSchemaChange } = cfg;
    // other builds of this model wait on the step's advisory lock; this keeps writers outside
    // Weir out between the key-range check and the apply (readers are not blocked)
    await c.query(`LOCK TABLE ${target} IN SHARE ROW EXCLUSIVE MODE`);
    const evolve = onSchemaChange === 'append_new_columns' || onSchemaChange === 'sync_all_columns';
    if (evolve)
      for (const a of cols.added)
        await c.query(`ALTER TABLE ${target} ADD COLUMN ${quoteIdent(a.name, 'column')} ${a.type}`);
    if (onSchemaChange === 'sync_all_columns')
      for (const r of cols.removed) await c.query(`ALTER TABLE ${target} DROP COLUMN ${quoteIdent(r.name, 'column')}`);
    const now = evolve ? cols.incoming : cols.incoming.filter((x) => cols.have.some((h) => h.name === x.name));
    const list = now.map((x) => quoteIdent(x.name, 'column')).join(', ');
    const insert = `INSERT INTO ${target} (${list}) SELECT ${list} FROM ${staging}`;
    if (strategy === 'append') {
      await c.query(insert);
      return strategy;
    }
    if (strategy === 'delete+insert') {
      const keys = uniqueKey.map((k) => quoteIdent(k, 'column')).join(', ');
      const tkeys = uniqueKey.map((k) => `t.${quoteIdent(k)}`).join(', ');
      await c.query(`DELETE FROM ${target} t WHERE (${tkeys}) IN (SELECT ${keys} FROM ${staging})`);
      await c.query(insert);
      return strategy;
    }
    if (await this.keyRangesDisjoint(c, target, staging, uniqueKey, cols.have, cols.incoming)) {
      // merge, when no key of the target lies within the staged keys' range (rows past the end,
      // the usual increment): nothing can match, so a plain INSERT does the MERGE's work without
      // probing the key index once per row (about 40% of the MERGE's time on 20k rows)
      await c.query(insert);
      return 'merge (insert-only: staged keys beyond the target)';
    }
    const on = uniqueKey.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ');
    const set = now
      .filter((x) => !uniqueKey.includes(x.name))
      .map((x) => `${quoteIdent(x.name)} = s.${quoteIdent(x.name)}`);
    await c.query(
      `MERGE INTO ${target} t USING ${staging} s ON ${on}
         ${set.length ? `WHEN MATCHED THEN UPDATE SET ${set.join(', ')}` : ''}
         WHEN NOT MATCHED THEN INSERT (${list}) VALUES (${now.map((x) => `s.${quoteIdent(x.name)}`).join(', ')})`,
    );
    return strategy;
  }

  /**
   * True when a single-column unique key, of a type ordered without collation, has no value in
   * the target between the smallest and the largest staged key: then no staged row can match
   * (NULL keys never match either). One index range probe instead of one probe per staged row.
   * Composite, text and other keys answer false (the caller MERGEs).
   */
  private async keyRangesDisjoint(
    c: { query: (sql: string) => Promise<{ rows: { disjoint: boolean }[] }> },
    target: string,
    staging: string,
    uniqueKey: string[],
    have: { name: string; type: string }[],
    incoming: { name: string; type: string }[],
  ): Promise<boolean> {
    if (uniqueKey.length !== 1) return false;
    const [key] = uniqueKey;
    const type = incoming.find((x) => x.name === key)?.type;
    if (!type || have.find((x) => x.name === key)?.type !== type) return false;
    if (!/^(smallint|integer|bigint|numeric(\(\d+,\d+\))?|date|timestamp(\(\d\))? with(out)? time zone)$/.test(type))
      return false;
    const k = quoteIdent(key, 'column');
    const r = await c.query(
      `SELECT NOT EXISTS (SELECT 1 FROM ${target} t WHERE t.${k} >= r.lo AND t.${k} <= r.hi) AS disjoint FROM (SELECT min(${k}) AS lo, max(${k}) AS hi FROM ${staging}) r`,
    );
    return r.rows[0].disjoint === true;
  }
}

type Column = { name: string; type: string };
interface ColumnChanges {
  have: Column[];
  incoming: Column[];
  added: Column[];
  removed: Column[];
}

interface IncrementalConfig {
  uniqueKey: string[];
  strategy: string;
  onSchemaChange: string;
}

/** unique_key (a list or "a, b"), incremental_strategy (default merge with a key, else append) and on_schema_change. */
function incrementalConfig(n: CompiledNode): IncrementalConfig {
  const uniqueKey = uniqueKeyOf(n.config['unique_key']);
  const strategy = String(n.config['incremental_strategy'] ?? (uniqueKey.length ? 'merge' : 'append'));
  if (!['append', 'merge', 'delete+insert'].includes(strategy))
    throw new BadConfigError(`${n.path}: incremental_strategy must be append, merge or delete+insert`);
  if (strategy !== 'append' && uniqueKey.length === 0)
    throw new BadConfigError(`${n.path}: incremental_strategy ${strategy} needs unique_key`);
  return { uniqueKey, strategy, onSchemaChange: String(n.config['on_schema_change'] ?? 'ignore') };
}
