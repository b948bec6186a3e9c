import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { quoteIdent, Warehouse, writeAsWriter } from '@weir/platform';
import { CATALOG, CatalogPort, DatasetContract } from '@weir/catalog';
import type { CompiledNode } from '../../domain/compile';
import type { Project } from '../../domain/project';
import { BadConfigError, ModelSqlFailedError, NotASnapshotTableError } from '../../modeling.errors';
import type { StepPatch } from '../../application/modeling.views';
import type { Materializer, StepContext } from '../../application/ports/materializer.port';
import {
  asSubquery,
  prepareModelWriter,
  relationColumns,
  RELATION_KINDS,
  TABLE_KINDS,
  uniqueKeyOf,
} from './relations.util';

/** `snapshot`: dbt's SCD2 tables (timestamp or check strategy, hard deletes), recorded in the catalog. */
@Injectable()
export class SnapshotMaterializer implements Materializer {
  private readonly log = new Logger('modeling');

  constructor(
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
  ) {}

  async materialize(ctx: StepContext): Promise<StepPatch> {
    const patch = await this.snapshot(ctx.node);
    await this.registerRelation(ctx.project, ctx.node);
    return patch;
  }

  /**
   * SCD type 2 snapshots (dbt's `timestamp` and `check` strategies, `unique_key`, `hard_deletes`
   * ignore | invalidate | new_record) with columns dbt_scd_id, dbt_updated_at, dbt_valid_from,
   * dbt_valid_to, dbt_is_deleted and a generated dbt_is_current. A partial unique index allows one
   * current row per key, the run holds an exclusive lock and works in one transaction, duplicates
   * of a key in one batch keep the latest row, and unchanged data changes nothing.
   */
  private async snapshot(n: CompiledNode): Promise<StepPatch> {
    const cfg = snapshotConfig(n);
    await this.warehouse.ensureSchema(n.schema);
    await prepareModelWriter(this.warehouse, n, (m) => this.log.warn(m));
    return this.warehouse.transaction(async (c) => {
      const batchCols = await this.batch(c, n, cfg);
      const relkind = (await c.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [n.relation])).rows[0]
        ?.relkind as string | undefined;
      if (relkind === undefined) return this.first(c, n, cfg);
      await this.assertSnapshotTable(c, n, relkind);
      return this.apply(c, n, cfg, batchCols);
    });
  }

  /** The batch (temp table `__weir_batch`), one row per key: the latest by updated_at, or the last by content for check. */
  private async batch(c: PoolClient, n: CompiledNode, cfg: SnapshotConfig): Promise<string[]> {
    const order =
      cfg.strategy === 'timestamp' ? `${quoteIdent(cfg.updatedAt, 'column')} DESC NULLS LAST` : `md5(s::text) DESC`;
    try {
      await writeAsWriter(
        c,
        `CREATE TEMP TABLE __weir_batch ON COMMIT DROP AS SELECT DISTINCT ON (${cfg.k.join(', ')}) s.* FROM ${asSubquery(n.compiledSql!)} s ORDER BY ${cfg.k.join(', ')}, ${order}`,
        (m) => this.log.warn(m),
      );
    } catch (e) {
      throw new ModelSqlFailedError(`${n.path}: ${(e as Error).message}`);
    }
    return (
      await c.query(
        `SELECT attname AS name FROM pg_attribute WHERE attrelid = 'pg_temp.__weir_batch'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      )
    ).rows.map((r) => r.name as string);
  }

  /** dbt's valid_snapshot_target: only a table with the snapshot's meta columns is written into. */
  private async assertSnapshotTable(c: PoolClient, n: CompiledNode, relkind: string): Promise<void> {
    const meta = (
      await c.query(
        `SELECT array_agg(attname::text) AS a FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
        [n.relation],
      )
    ).rows[0].a as string[] | null;
    const missing = ['dbt_scd_id', 'dbt_valid_from', 'dbt_valid_to'].filter((m) => !(meta ?? []).includes(m));
    if (!TABLE_KINDS.has(relkind) || missing.length) {
      throw new NotASnapshotTableError(
        `${n.path}: ${n.relation} exists as a ${RELATION_KINDS[relkind] ?? relkind}${missing.length ? ` without ${missing.join(', ')}` : ''}, not a snapshot table; nothing was written. Drop or rename it to start the snapshot`,
      );
    }
  }

  /** The first run: the table from the batch, with the meta columns and one current row per key. */
  private async first(c: PoolClient, n: CompiledNode, cfg: SnapshotConfig): Promise<StepPatch> {
    const target = n.relation;
    await c.query(
      `CREATE TABLE ${target} AS SELECT b.*, md5(${cfg.keyExpr} || '|' || ${cfg.changeTs}::text) AS dbt_scd_id, ${cfg.changeTs}::timestamptz AS dbt_updated_at,
              ${cfg.changeTs}::timestamptz AS dbt_valid_from, NULL::timestamptz AS dbt_valid_to, false AS dbt_is_deleted FROM __weir_batch b`,
    );
    await c.query(
      `ALTER TABLE ${target} ADD COLUMN dbt_is_current boolean GENERATED ALWAYS AS (dbt_valid_to IS NULL) STORED`,
    );
    await c.query(
      `CREATE UNIQUE INDEX ${quoteIdent(`${n.name}_one_current`.slice(0, 63))} ON ${target} (${cfg.k.join(', ')}) WHERE dbt_valid_to IS NULL`,
    );
    const inserted = (await c.query(`SELECT count(*)::int AS n FROM ${target}`)).rows[0].n;
    return { rowsAffected: String(inserted), refs: { inserted, invalidated: 0 } };
  }

  /** Later runs: changed keys closed and reopened, new keys opened, vanished keys handled per hard_deletes. */
  private async apply(c: PoolClient, n: CompiledNode, cfg: SnapshotConfig, batchCols: string[]): Promise<StepPatch> {
    const target = n.relation;
    const { keys, strategy, updatedAt, changeTs, keyExpr } = cfg;
    const cols = batchCols.map((x) => quoteIdent(x, 'column')).join(', ');
    const checkCols =
      strategy !== 'check' ? [] : cfg.checkCols === 'all' ? batchCols.filter((x) => !keys.includes(x)) : cfg.checkCols;
    // one snapshot run at a time per target (a racing run waits, then sees this one's result)
    await c.query(`LOCK TABLE ${target} IN EXCLUSIVE MODE`);
    const join = keys.map((x) => `t.${quoteIdent(x)} = b.${quoteIdent(x)}`).join(' AND ');
    const changed =
      strategy === 'timestamp'
        ? `(t.dbt_is_deleted OR b.${quoteIdent(updatedAt)}::timestamptz > t.dbt_updated_at)`
        : `(t.dbt_is_deleted OR ${checkCols.map((x) => `t.${quoteIdent(x)} IS DISTINCT FROM b.${quoteIdent(x)}`).join(' OR ') || 'FALSE'})`;
    await c.query(
      `CREATE TEMP TABLE __weir_changes ON COMMIT DROP AS SELECT b.* FROM __weir_batch b JOIN ${target} t ON ${join} AND t.dbt_valid_to IS NULL WHERE ${changed}`,
    );
    const validTo = strategy === 'timestamp' ? `b.${quoteIdent(updatedAt)}::timestamptz` : 'now()';
    const invalidated =
      (
        await c.query(
          `UPDATE ${target} t SET dbt_valid_to = ${validTo} FROM __weir_changes b WHERE ${join} AND t.dbt_valid_to IS NULL`,
        )
      ).rowCount ?? 0;
    const fresh = `SELECT b.* FROM __weir_batch b WHERE NOT EXISTS (SELECT 1 FROM ${target} t WHERE ${join} AND t.dbt_valid_to IS NULL)`;
    const inserted =
      (
        await c.query(
          `INSERT INTO ${target} (${cols}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to, dbt_is_deleted)
           SELECT ${batchCols.map((x) => `b.${quoteIdent(x)}`).join(', ')}, md5(${keyExpr.replace(/"([^"]+)"/g, 'b."$1"')} || '|' || ${changeTs}::text), ${changeTs}::timestamptz, ${changeTs}::timestamptz, NULL, false
             FROM (${fresh}) b`,
        )
      ).rowCount ?? 0;
    const deleted = await this.hardDeletes(c, target, cfg, cols, batchCols, join);
    return {
      rowsAffected: String(inserted),
      refs: { inserted, invalidated: invalidated + deleted, hardDeleted: deleted },
    };
  }

  /** hard_deletes: invalidate closes the current row of a key gone from the source; new_record also adds a deleted marker. */
  private async hardDeletes(
    c: PoolClient,
    target: string,
    cfg: SnapshotConfig,
    cols: string,
    batchCols: string[],
    join: string,
  ): Promise<number> {
    if (cfg.hardDeletes === 'ignore') return 0;
    const gone = `t.dbt_valid_to IS NULL AND NOT t.dbt_is_deleted AND NOT EXISTS (SELECT 1 FROM __weir_batch b WHERE ${join})`;
    if (cfg.hardDeletes === 'new_record') {
      await c.query(`CREATE TEMP TABLE __weir_gone ON COMMIT DROP AS SELECT * FROM ${target} t WHERE ${gone}`);
    }
    const deleted = (await c.query(`UPDATE ${target} t SET dbt_valid_to = now() WHERE ${gone}`)).rowCount ?? 0;
    if (cfg.hardDeletes === 'new_record' && deleted) {
      await c.query(
        `INSERT INTO ${target} (${cols}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to, dbt_is_deleted)
         SELECT ${batchCols.map((x) => `g.${quoteIdent(x)}`).join(', ')}, md5(${cfg.keyExpr.replace(/"([^"]+)"/g, 'g."$1"')} || '|deleted|' || now()::text), now(), now(), NULL, true FROM __weir_gone g`,
      );
    }
    return deleted;
  }

  /** Records a built relation (snapshot) as a catalog dataset, its contract read from the table. */
  private async registerRelation(project: Project, n: CompiledNode): Promise<void> {
    const contract: DatasetContract = { columns: await relationColumns(this.warehouse, n.schema, n.table) };
    await this.catalog.ensureDataset(
      {
        name: n.name,
        schema: n.schema,
        table: n.table,
        contract,
        tags: [n.kind, `project:${project.name}`],
        managedBy: `modeling:${project.name}`,
      },
      `modeling:${project.name}`,
    );
  }
}

interface SnapshotConfig {
  keys: string[];
  /** The keys, quoted. */
  k: string[];
  /** The key as one text value (several keys joined with |). */
  keyExpr: string;
  strategy: 'timestamp' | 'check';
  updatedAt: string;
  /** When a change happened: the row's updated_at (timestamp strategy) or now() (check). */
  changeTs: string;
  checkCols: 'all' | string[];
  hardDeletes: 'ignore' | 'invalidate' | 'new_record';
}

/** unique_key, strategy (timestamp needs updated_at), check_cols and hard_deletes, checked. */
function snapshotConfig(n: CompiledNode): SnapshotConfig {
  const cfg = n.config;
  const keys = uniqueKeyOf(cfg['unique_key']);
  const strategy = String(cfg['strategy'] ?? '');
  const hardDeletes = String(cfg['hard_deletes'] ?? (cfg['invalidate_hard_deletes'] ? 'invalidate' : 'ignore'));
  if (keys.length === 0) throw new BadConfigError(`${n.path}: snapshot ${n.name} needs unique_key`);
  if (strategy !== 'timestamp' && strategy !== 'check')
    throw new BadConfigError(`${n.path}: snapshot strategy must be timestamp or check`);
  if (!['ignore', 'invalidate', 'new_record'].includes(hardDeletes))
    throw new BadConfigError(`${n.path}: hard_deletes must be ignore, invalidate or new_record`);
  const updatedAt = strategy === 'timestamp' ? String(cfg['updated_at'] ?? '') : '';
  if (strategy === 'timestamp' && !updatedAt)
    throw new BadConfigError(`${n.path}: the timestamp strategy needs updated_at`);
  const k = keys.map((x) => quoteIdent(x, 'column'));
  const checkCols =
    cfg['check_cols'] === 'all' || cfg['check_cols'] === undefined ? 'all' : (cfg['check_cols'] as string[]);
  return {
    keys,
    k,
    keyExpr: k.length === 1 ? `${k[0]}::text` : `concat_ws('|', ${k.map((x) => `${x}::text`).join(', ')})`,
    strategy,
    updatedAt,
    changeTs: strategy === 'timestamp' ? `b.${quoteIdent(updatedAt)}` : 'now()',
    checkCols,
    hardDeletes: hardDeletes as SnapshotConfig['hardDeletes'],
  };
}
