/**
 * dbt-postgres's materializations — view, table, incremental (append, delete+insert, merge,
 * microbatch, custom strategies by macro), ephemeral, seed, snapshot and test — with dbt's
 * semantics: build beside the target (`__dbt_tmp`), swap by rename in one transaction, drop the
 * backup; hooks before and after; incremental schema changes by `on_schema_change`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitArgs } from './jinja';
import type { ManifestNode } from './manifest';
import { Column, Relation } from './relation';
import { DbtError, type DbtRuntime } from './runtime';
import { readSeed } from './seed-file';

export interface NodeOutcome {
  status: 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn';
  message: string;
  rowsAffected: number;
  failures: number | null;
  compiledCode?: string;
  /** Microbatch: the batches that succeeded / failed. */
  batchResults?: { successful: string[][]; failed: string[][] };
}

const q = (s: string) => `"${String(s).replace(/"/g, '""')}"`;
const asList = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

export class Materializer {
  constructor(
    private readonly rt: DbtRuntime,
    private readonly compiled: (n: ManifestNode) => string,
  ) {}

  private exec(sql: string) {
    return this.rt.query(sql);
  }

  private relation(n: ManifestNode): Relation {
    return this.rt.relationOf(n);
  }

  private existing(n: ManifestNode): Relation | null {
    return this.rt.getRelation(n.database, n.schema, n.alias);
  }

  private ensureSchema(n: ManifestNode): void {
    this.exec(`create schema if not exists ${q(n.schema)}`);
  }

  private hooks(n: ManifestNode, which: 'pre-hook' | 'post-hook', inTransaction: boolean): void {
    for (const h of (n.config[which] as unknown[]) ?? []) {
      const hook =
        typeof h === 'string' ? { sql: h, transaction: true } : (h as { sql: string; transaction?: boolean });
      if ((hook.transaction ?? true) !== inTransaction) continue;
      const sql = this.rt.render(String(hook.sql), n.original_file_path, { node: n, execute: true }).sql;
      if (sql.trim()) this.exec(sql);
    }
  }

  private dropIfExists(r: Relation): void {
    const e = this.rt.getRelation(r.database, r.schema, r.identifier);
    if (e) this.exec(`drop ${e.type === 'view' ? 'view' : 'table'} if exists ${e.render()} cascade`);
  }

  private rename(from: Relation, to: string): void {
    this.exec(`alter ${from.type === 'view' ? 'view' : 'table'} ${from.render()} rename to ${q(to)}`);
  }

  private indexes(n: ManifestNode, target: Relation): void {
    for (const ix of (n.config['indexes'] as { columns: string[]; unique?: boolean; type?: string }[]) ?? []) {
      const cols = ix.columns.map(q).join(', ');
      this.exec(
        `create ${ix.unique ? 'unique ' : ''}index if not exists on ${target.render()} ${ix.type ? `using ${ix.type} ` : ''}(${cols})`,
      );
    }
  }

  /** Builds `intermediate` with `create`, then swaps it in for the target by rename (view and table). */
  private buildAndSwap(n: ManifestNode, kind: 'view' | 'table', sql: string): NodeOutcome {
    const target = this.relation(n).incorporate({ type: kind, __keywords: true });
    const intermediate = target.suffixed('__dbt_tmp', kind);
    const backup = target.suffixed('__dbt_backup');
    const existing = this.existing(n);
    this.dropIfExists(intermediate);
    this.dropIfExists(backup);
    this.hooks(n, 'pre-hook', false);
    this.exec('begin');
    let rows = -1;
    try {
      this.hooks(n, 'pre-hook', true);
      const r =
        kind === 'view'
          ? this.exec(`create view ${intermediate.render()} as (\n${sql}\n)`)
          : this.exec(`create table ${intermediate.render()} as (\n${sql}\n)`);
      rows = r.rowCount ?? -1;
      if (existing) this.rename(existing, String(backup.identifier));
      this.rename(intermediate, String(target.identifier));
      if (kind === 'table') this.indexes(n, target);
      this.hooks(n, 'post-hook', true);
      this.exec('commit');
    } catch (e) {
      this.exec('rollback');
      throw e;
    }
    if (existing)
      this.exec(
        `drop ${existing.type === 'view' ? 'view' : 'table'} if exists ${backup.incorporate({ type: existing.type, __keywords: true }).render()} cascade`,
      );
    this.hooks(n, 'post-hook', false);
    return {
      status: 'success',
      message: kind === 'view' ? 'CREATE VIEW' : `SELECT ${rows}`,
      rowsAffected: rows,
      failures: null,
    };
  }

  model(n: ManifestNode): NodeOutcome {
    const m = String(n.config['materialized'] ?? 'view');
    this.ensureSchema(n);
    if (m === 'view') return this.buildAndSwap(n, 'view', this.compiled(n));
    if (m === 'table') return this.buildAndSwap(n, 'table', this.compiled(n));
    if (m === 'incremental') return this.incremental(n);
    if (m === 'ephemeral') {
      this.compiled(n);
      return { status: 'success', message: 'OK', rowsAffected: -1, failures: null };
    }
    const custom =
      this.rt.findMacro(`materialization_${m}_postgres`) ?? this.rt.findMacro(`materialization_${m}_default`);
    if (!custom)
      throw new DbtError(
        `No materialization '${m}' was found for adapter postgres! (searched types 'default' and 'postgres')`,
      );
    const sql = this.compiled(n);
    this.rt.callMacro(custom, [], n, { sql, compiled_code: sql });
    return { status: 'success', message: 'OK', rowsAffected: -1, failures: null };
  }

  // ---------------------------------------------------------------- incremental

  private incremental(n: ManifestNode): NodeOutcome {
    const strategy = String(n.config['incremental_strategy'] ?? 'default');
    const existing = this.existing(n);
    const fullRefresh = this.rt.shouldFullRefresh(n);
    if (strategy === 'microbatch' && n.config['event_time'] !== undefined)
      return this.microbatch(n, existing, fullRefresh);
    // the strategy's macro must exist even when this run builds the table whole
    this.rt.strategyMacro(strategy);
    if (!existing || existing.type !== 'table' || fullRefresh) {
      return this.buildAndSwap(n, 'table', this.compiled(n));
    }
    const sql = this.compiled(n);
    const target = this.relation(n).incorporate({ type: 'table', __keywords: true });
    const strategyMacro = this.rt.strategyMacro(strategy);
    this.hooks(n, 'pre-hook', false);
    this.exec('begin');
    try {
      this.hooks(n, 'pre-hook', true);
      const temp = new Relation(null, null, `${n.alias}__dbt_tmp${Date.now() % 100000000}`, 'table');
      this.exec(`create temporary table ${temp.render()} as (\n${sql}\n)`);
      const dest = this.schemaChanges(n, temp, target);
      const buildSql = String(
        this.rt.callMacro(
          strategyMacro,
          [
            {
              target_relation: target,
              temp_relation: temp,
              unique_key: n.config['unique_key'] ?? null,
              dest_columns: dest,
              incremental_predicates: n.config['incremental_predicates'] ?? n.config['predicates'] ?? null,
            },
          ],
          n,
        ),
      );
      const r = this.exec(buildSql);
      this.indexes(n, target);
      this.hooks(n, 'post-hook', true);
      this.exec('commit');
      this.hooks(n, 'post-hook', false);
      return {
        status: 'success',
        message: `${r.command} ${r.rowCount ?? 0}`,
        rowsAffected: r.rowCount ?? -1,
        failures: null,
      };
    } catch (e) {
      this.exec('rollback');
      throw e;
    }
  }

  /** on_schema_change: ignore | fail | append_new_columns | sync_all_columns; returns the columns to write. */
  private schemaChanges(n: ManifestNode, temp: Relation, target: Relation): Column[] {
    const mode = String(n.config['on_schema_change'] ?? 'ignore');
    const tempCols = this.rt.columnsOf(temp.incorporate({ path: { schema: this.tempSchema() }, __keywords: true }));
    const targetCols = this.rt.columnsOf(target);
    if (mode === 'ignore' || !['fail', 'append_new_columns', 'sync_all_columns'].includes(mode)) return targetCols;
    const lower = (cs: Column[]) => new Map(cs.map((c) => [c.name.toLowerCase(), c]));
    const t = lower(targetCols);
    const s = lower(tempCols);
    const added = tempCols.filter((c) => !t.has(c.name.toLowerCase()));
    const removed = targetCols.filter((c) => !s.has(c.name.toLowerCase()));
    const changed = tempCols.filter((c) => {
      const o = t.get(c.name.toLowerCase());
      return o && o.data_type !== c.data_type;
    });
    if (!added.length && !removed.length && !changed.length) return targetCols;
    if (mode === 'fail')
      throw new DbtError(
        `The source and target schemas on this incremental model are out of sync!\n` +
          `They can be reconciled in several ways:\n` +
          `  - set the \`on_schema_change\` config to either append_new_columns or sync_all_columns, depending on your situation.\n` +
          `  - Re-run the incremental model with \`full_refresh: True\` to update the target schema.\n` +
          `  - update the schema manually and re-run the process.\n\n` +
          `Additional troubleshooting context:\n` +
          `   Source columns not in target: ${added.map((c) => c.name).join(', ')}\n` +
          `   Target columns not in source: ${removed.map((c) => c.name).join(', ')}\n` +
          `   New column types: ${changed.map((c) => `${c.name} ${c.data_type}`).join(', ')}`,
      );
    for (const c of added) this.exec(`alter table ${target.render()} add column ${q(c.name)} ${c.data_type}`);
    if (mode === 'sync_all_columns') {
      for (const c of removed) this.exec(`alter table ${target.render()} drop column ${q(c.name)}`);
      for (const c of changed)
        this.exec(
          `alter table ${target.render()} alter column ${q(c.name)} type ${c.data_type} using ${q(c.name)}::${c.data_type}`,
        );
    }
    // the new rows are written with the columns the model's SQL has (dbt's source_columns)
    return tempCols;
  }

  private tempSchema(): string {
    return String(
      this.exec(`select nspname::text from pg_namespace where oid = pg_my_temp_schema()`).rows[0]?.[0] ?? 'pg_temp',
    );
  }

  private microbatch(n: ManifestNode, existing: Relation | null, fullRefresh: boolean): NodeOutcome {
    const size = String(n.config['batch_size'] ?? '');
    if (!['hour', 'day', 'month', 'year'].includes(size))
      throw new DbtError(
        `Microbatch model '${n.name}' must provide a 'batch_size' config that is one of [hour, day, month, year]`,
      );
    const eventTime = String(n.config['event_time']);
    const endAt = this.rt.opts.flags['MICROBATCH_END_TIME']
      ? new Date(`${String(this.rt.opts.flags['MICROBATCH_END_TIME']).replace(' ', 'T')}Z`)
      : new Date();
    const truncate = (d: Date) => {
      const x = new Date(d);
      if (size === 'year') return new Date(Date.UTC(x.getUTCFullYear(), 0, 1));
      if (size === 'month') return new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), 1));
      if (size === 'day') return new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), x.getUTCDate()));
      return new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), x.getUTCDate(), x.getUTCHours()));
    };
    const add = (d: Date, k: number) => {
      const x = new Date(d);
      if (size === 'year') x.setUTCFullYear(x.getUTCFullYear() + k);
      else if (size === 'month') x.setUTCMonth(x.getUTCMonth() + k);
      else if (size === 'day') x.setUTCDate(x.getUTCDate() + k);
      else x.setUTCHours(x.getUTCHours() + k);
      return x;
    };
    const end = add(truncate(endAt), 1);
    const lookback = Number(n.config['lookback'] ?? 1);
    const beginCfg = n.config['begin'];
    const begin = beginCfg
      ? new Date(
          typeof beginCfg === 'object' && beginCfg !== null && 'ms' in beginCfg
            ? (beginCfg as { ms: number }).ms
            : `${String(beginCfg).replace(' ', 'T')}Z`,
        )
      : undefined;
    const incremental = existing !== null && existing.type === 'table' && !fullRefresh;
    let start: Date;
    if (incremental) start = add(truncate(endAt), -lookback);
    else if (begin) start = truncate(begin);
    else throw new DbtError(`Microbatch model '${n.name}' must provide a 'begin' (datetime) config`);
    const fmt = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19);
    const successful: string[][] = [];
    const target = this.relation(n).incorporate({ type: 'table', __keywords: true });
    if (!incremental) {
      // the first batch creates the table (empty); every batch then replaces its window
      const firstSql = this.rt.compileNode(n, { eventTimeStart: fmt(start), eventTimeEnd: fmt(add(start, 1)) });
      this.buildAndSwap(n, 'table', `select * from (\n${firstSql}\n) as __dbt_mb where false`);
    }
    let rows = 0;
    for (let b = start; b < end; b = add(b, 1)) {
      const e = add(b, 1);
      const sql = this.rt.compileNode(n, { eventTimeStart: fmt(b), eventTimeEnd: fmt(e) });
      this.exec('begin');
      try {
        const temp = new Relation(null, null, `${n.alias}__dbt_tmp${Date.now() % 100000000}`, 'table');
        this.exec(`create temporary table ${temp.render()} as (\n${sql}\n)`);
        const dest = this.rt.columnsOf(target);
        const cols = dest.map((c) => q(c.name)).join(', ');
        const preds = asList(n.config['incremental_predicates'])
          .map((p) => ` and ${p}`)
          .join('');
        this.exec(
          `delete from ${target.render()} where ${q(eventTime)} >= '${fmt(b)}'::timestamp and ${q(eventTime)} < '${fmt(e)}'::timestamp${preds}`,
        );
        const r = this.exec(`insert into ${target.render()} (${cols}) select ${cols} from ${temp.render()}`);
        rows += r.rowCount ?? 0;
        this.exec(`drop table ${temp.render()}`);
        this.exec('commit');
        successful.push([fmt(b), fmt(e)]);
      } catch (err) {
        this.exec('rollback');
        throw err;
      }
    }
    return {
      status: 'success',
      message: `SUCCESS ${successful.length}`,
      rowsAffected: rows,
      failures: null,
      batchResults: { successful, failed: [] },
    };
  }

  // ---------------------------------------------------------------- seed

  seed(n: ManifestNode, root: string): NodeOutcome {
    this.ensureSchema(n);
    const file = path.join(root, n.original_file_path);
    const table = readSeed(fs.readFileSync(file, 'utf8'), String(n.config['delimiter'] ?? ','));
    if (!table.columns.length) throw new DbtError(`Seed ${n.name} (${n.original_file_path}) is empty`);
    const overrides = (n.config['column_types'] as Record<string, string>) ?? {};
    const quote = n.config['quote_columns'] !== false;
    const col = (c: string) => (quote ? q(c) : c);
    const types = table.columns.map((c, i) => overrides[c] ?? table.types[i]);
    const target = this.relation(n).incorporate({ type: 'table', __keywords: true });
    const existing = this.existing(n);
    const fullRefresh = this.rt.shouldFullRefresh(n);
    this.hooks(n, 'pre-hook', false);
    this.exec('begin');
    try {
      this.hooks(n, 'pre-hook', true);
      if (existing && (fullRefresh || existing.type !== 'table')) {
        this.exec(`drop ${existing.type === 'view' ? 'view' : 'table'} if exists ${existing.render()} cascade`);
      }
      if (!existing || fullRefresh || existing.type !== 'table')
        this.exec(
          `create table ${target.render()} (${table.columns.map((c, i) => `${col(c)} ${types[i]}`).join(', ')})`,
        );
      else this.exec(`truncate table ${target.render()}`);
      const width = table.columns.length;
      const batch = Math.max(1, Math.floor(10000 / width));
      for (let i = 0; i < table.rows.length; i += batch) {
        const chunk = table.rows.slice(i, i + batch);
        const values = chunk
          .map((_, r) => `(${table.columns.map((__, c) => `$${r * width + c + 1}`).join(', ')})`)
          .join(', ');
        this.rt.opts.sql.query(
          `insert into ${target.render()} (${table.columns.map(col).join(', ')}) values ${values}`,
          chunk.flat(),
        );
      }
      this.hooks(n, 'post-hook', true);
      this.exec('commit');
    } catch (e) {
      this.exec('rollback');
      throw e instanceof DbtError ? e : new DbtError((e as Error).message, 'Database Error');
    }
    this.hooks(n, 'post-hook', false);
    return {
      status: 'success',
      message: `INSERT ${table.rows.length}`,
      rowsAffected: table.rows.length,
      failures: null,
    };
  }

  // ---------------------------------------------------------------- snapshot

  snapshot(n: ManifestNode): NodeOutcome {
    this.ensureSchema(n);
    const cfg = n.config;
    const strategy = String(cfg['strategy'] ?? '');
    if (strategy !== 'timestamp' && strategy !== 'check')
      throw new DbtError(
        `Snapshot ${n.name}: strategy must be 'timestamp' or 'check' (got ${JSON.stringify(cfg['strategy'])})`,
      );
    const names = {
      dbt_valid_to: 'dbt_valid_to',
      dbt_valid_from: 'dbt_valid_from',
      dbt_scd_id: 'dbt_scd_id',
      dbt_updated_at: 'dbt_updated_at',
      dbt_is_deleted: 'dbt_is_deleted',
      ...((cfg['snapshot_meta_column_names'] as Record<string, string>) ?? {}),
    };
    // dbt writes these names unquoted: PostgreSQL folds them to lower case
    for (const k of Object.keys(names) as (keyof typeof names)[])
      if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(names[k])) names[k] = names[k].toLowerCase();
    const hardDeletes = String(
      cfg['hard_deletes'] ?? (cfg['invalidate_hard_deletes'] === true ? 'invalidate' : 'ignore'),
    );
    const validToCurrent = cfg['dbt_valid_to_current'] ? String(cfg['dbt_valid_to_current']) : null;
    const keys = asList(cfg['unique_key']);
    if (!keys.length) throw new DbtError(`Snapshot ${n.name} needs a unique_key`);
    const sql = this.compiled(n);
    const target = this.relation(n).incorporate({ type: 'table', __keywords: true });
    const existing = this.existing(n);
    const now = `now()::timestamp without time zone`;
    const col = (c: string) => q(c);
    const keyExpr = (alias?: string) =>
      keys.length === 1 ? (alias ? `${alias}.${keys[0]}` : keys[0]) : keys.map((k) => (alias ? `${alias}.${k}` : k));
    // the snapshot's source columns (for check_cols all)
    const sourceCols = this.rt.columnsOfQuery(sql).map((c) => c.name);
    let updatedAt: string;
    let rowChanged: string;
    if (strategy === 'timestamp') {
      const ua = String(cfg['updated_at'] ?? '');
      if (!ua) throw new DbtError(`Snapshot ${n.name}: the timestamp strategy needs updated_at`);
      updatedAt = ua;
      rowChanged = `(snapshotted_data.${col(names.dbt_valid_from)} < source_data.${ua})`;
    } else {
      updatedAt = now;
      const check = cfg['check_cols'] === 'all' ? sourceCols : asList(cfg['check_cols']);
      if (!check.length) throw new DbtError(`Snapshot ${n.name}: the check strategy needs check_cols`);
      rowChanged =
        '(' +
        check
          .map(
            (c) =>
              `snapshotted_data.${c} != source_data.${c} or ((snapshotted_data.${c} is null) and not (source_data.${c} is null)) or ((not snapshotted_data.${c} is null) and (source_data.${c} is null))`,
          )
          .join(' or ') +
        ')';
    }
    const keyText =
      keys.length === 1
        ? `coalesce(cast(${keys[0]} as varchar), '')`
        : keys.map((k) => `coalesce(cast(${k} as varchar), '')`).join(` || '|' || `);
    const scdId = (ua: string) => `md5(${keyText} || '|' || coalesce(cast(${ua} as varchar), ''))`;
    const validToNull = (ua: string) =>
      validToCurrent ? `coalesce(nullif(${ua}, ${ua}), ${validToCurrent})` : `nullif(${ua}, ${ua})`;
    this.hooks(n, 'pre-hook', false);
    this.exec('begin');
    try {
      this.hooks(n, 'pre-hook', true);
      let rows = 0;
      if (!existing) {
        const r = this.exec(
          `create table ${target.render()} as (\n select *,\n ${scdId(updatedAt)} as ${col(names.dbt_scd_id)},\n ${updatedAt} as ${col(names.dbt_updated_at)},\n ${updatedAt} as ${col(names.dbt_valid_from)},\n ${validToNull(updatedAt)} as ${col(names.dbt_valid_to)}${hardDeletes === 'new_record' ? `,\n 'False'::text as ${col(names.dbt_is_deleted)}` : ''}\n from (\n${sql}\n) sbq\n)`,
        );
        rows = r.rowCount ?? 0;
      } else {
        rows = this.snapshotMerge(n, sql, target, {
          names,
          hardDeletes,
          validToCurrent,
          keys,
          updatedAt,
          rowChanged,
          scdId,
          validToNull,
          now,
          keyExpr,
        });
      }
      this.hooks(n, 'post-hook', true);
      this.exec('commit');
      this.hooks(n, 'post-hook', false);
      return { status: 'success', message: `INSERT 0 ${rows}`, rowsAffected: rows, failures: null };
    } catch (e) {
      this.exec('rollback');
      throw e;
    }
  }

  private snapshotMerge(
    n: ManifestNode,
    sql: string,
    target: Relation,
    o: {
      names: Record<string, string>;
      hardDeletes: string;
      validToCurrent: string | null;
      keys: string[];
      updatedAt: string;
      rowChanged: string;
      scdId: (ua: string) => string;
      validToNull: (ua: string) => string;
      now: string;
      keyExpr: (alias?: string) => string | string[];
    },
  ): number {
    const { names, keys } = o;
    const c = (x: string) => q(x);
    const current = o.validToCurrent
      ? `(${c(names.dbt_valid_to)} is null or ${c(names.dbt_valid_to)} = ${o.validToCurrent})`
      : `${c(names.dbt_valid_to)} is null`;
    const uk = keys.map((k, i) => `${k} as dbt_unique_key${keys.length > 1 ? `_${i + 1}` : ''}`).join(', ');
    const ukNames = keys.map((_, i) => `dbt_unique_key${keys.length > 1 ? `_${i + 1}` : ''}`);
    const join = (a: string, b: string) => ukNames.map((k) => `${a}.${k} = ${b}.${k}`).join(' and ');
    const isNull = (a: string) => ukNames.map((k) => `${a}.${k} is null`).join(' and ');
    const notNull = (a: string) => ukNames.map((k) => `${a}.${k} is not null`).join(' and ');
    const ua = o.updatedAt;
    // new_record: a key whose current row is its deletion record counts as changed when it
    // comes back, and is not deleted again while it stays away
    const hasDeletedCol =
      o.hardDeletes === 'new_record' &&
      this.rt.columnsOf(target).some((x) => x.name.toLowerCase() === names.dbt_is_deleted.toLowerCase());
    const alreadyDeleted = hasDeletedCol ? `snapshotted_data.${c(names.dbt_is_deleted)} = 'True'` : null;
    const changed = alreadyDeleted ? `(${o.rowChanged} or ${alreadyDeleted})` : o.rowChanged;
    const staging = `
      with snapshot_query as (\n${sql}\n),
      snapshotted_data as (
        select *, ${uk} from ${target.render()} where ${current}
      ),
      insertions_source_data as (
        select *, ${uk}, ${ua} as ${c(names.dbt_updated_at)}, ${ua} as ${c(names.dbt_valid_from)},
          ${o.validToNull(ua)} as ${c(names.dbt_valid_to)}, ${o.scdId(ua)} as ${c(names.dbt_scd_id)}
        from snapshot_query
      ),
      updates_source_data as (
        select *, ${uk}, ${ua} as ${c(names.dbt_updated_at)}, ${ua} as ${c(names.dbt_valid_from)}, ${ua} as ${c(names.dbt_valid_to)}
        from snapshot_query
      ),
      deletes_source_data as (select *, ${uk} from snapshot_query),
      insertions as (
        select 'insert' as dbt_change_type, source_data.* from insertions_source_data as source_data
        left outer join snapshotted_data on ${join('snapshotted_data', 'source_data')}
        where ${isNull('snapshotted_data')} or (${notNull('snapshotted_data')} and (${changed}))
      ),
      updates as (
        select 'update' as dbt_change_type, source_data.*, snapshotted_data.${c(names.dbt_scd_id)}
        from updates_source_data as source_data
        join snapshotted_data on ${join('snapshotted_data', 'source_data')}
        where (${changed})
      )${
        o.hardDeletes !== 'ignore'
          ? `,
      deletes as (
        select 'delete' as dbt_change_type, snapshotted_data.*, ${o.now} as __weir_deleted_at
        from snapshotted_data
        left join deletes_source_data as source_data on ${join('snapshotted_data', 'source_data')}
        where ${isNull('source_data')}${alreadyDeleted ? ` and not (${alreadyDeleted})` : ''}
      )`
          : ''
      }
      select * from insertions`;
    const tempName = `${n.alias}__dbt_tmp${Date.now() % 100000000}`;
    // the staging table holds insertions; updates and deletes are applied from their own queries
    this.exec(`create temporary table ${q(tempName)} as ${staging}`);
    const stagingCols = this.rt.columnsOfQuery(`select * from ${q(tempName)}`);
    const targetCols = this.rt.columnsOf(target);
    const targetNames = new Set(targetCols.map((x) => x.name.toLowerCase()));
    // new source columns are added to the snapshot
    for (const sc of stagingCols) {
      if (sc.name === 'dbt_change_type' || sc.name.startsWith('dbt_unique_key')) continue;
      if (!targetNames.has(sc.name.toLowerCase())) {
        this.exec(`alter table ${target.render()} add column ${q(sc.name)} ${sc.data_type}`);
        targetNames.add(sc.name.toLowerCase());
      }
    }
    const insertCols = this.rt
      .columnsOf(target)
      .map((x) => x.name)
      .filter((x) => stagingCols.some((s) => s.name === x));
    // close changed rows
    const upd = this.exec(
      `${staging.replace(/select \* from insertions$/, '')}
       update ${target.render()} as dbt_internal_dest
          set ${c(names.dbt_valid_to)} = u.${c(names.dbt_valid_to)}
         from updates as u
        where u.${c(names.dbt_scd_id)}::text = dbt_internal_dest.${c(names.dbt_scd_id)}::text
          and ${current.replace(new RegExp(`\\${c(names.dbt_valid_to)}`, 'g'), `dbt_internal_dest.${c(names.dbt_valid_to)}`)}`,
    );
    let rows = upd.rowCount ?? 0;
    if (o.hardDeletes !== 'ignore') {
      // the deleted keys, taken once: closing their rows must not hide them from the new records
      const delName = `${tempName}_del`;
      this.exec(
        `create temporary table ${q(delName)} as ${staging.replace(/select \* from insertions$/, 'select * from deletes')}`,
      );
      const del = this.exec(
        `update ${target.render()} as dbt_internal_dest
            set ${c(names.dbt_valid_to)} = d.__weir_deleted_at
           from ${q(delName)} as d
          where d.${c(names.dbt_scd_id)}::text = dbt_internal_dest.${c(names.dbt_scd_id)}::text
            and ${current.replace(new RegExp(`\\${c(names.dbt_valid_to)}`, 'g'), `dbt_internal_dest.${c(names.dbt_valid_to)}`)}`,
      );
      rows += del.rowCount ?? 0;
      if (o.hardDeletes === 'new_record') {
        const cols = this.rt
          .columnsOf(target)
          .map((x) => x.name)
          .filter(
            (x) =>
              ![
                names.dbt_valid_from,
                names.dbt_valid_to,
                names.dbt_updated_at,
                names.dbt_scd_id,
                names.dbt_is_deleted,
              ].includes(x),
          );
        const ins = this.exec(
          `insert into ${target.render()} (${[...cols, names.dbt_valid_from, names.dbt_valid_to, names.dbt_updated_at, names.dbt_scd_id, names.dbt_is_deleted].map(q).join(', ')})
           select ${cols.map((x) => `d.${q(x)}`).join(', ')}, d.__weir_deleted_at, ${o.validToCurrent ?? 'null'}, d.__weir_deleted_at,
                  md5(d.${q(names.dbt_scd_id)} || '|deleted'), 'True'
             from ${q(delName)} d`,
        );
        rows += ins.rowCount ?? 0;
      }
      this.exec(`drop table ${q(delName)}`);
    }
    const isDeletedCol = o.hardDeletes === 'new_record' && targetNames.has(names.dbt_is_deleted.toLowerCase());
    const cols = insertCols.filter((x) => x !== names.dbt_is_deleted);
    const ins = this.exec(
      `insert into ${target.render()} (${[...cols, ...(isDeletedCol ? [names.dbt_is_deleted] : [])].map(q).join(', ')})
       select ${cols.map(q).join(', ')}${isDeletedCol ? `, 'False'` : ''} from ${q(tempName)} where dbt_change_type = 'insert'`,
    );
    rows += ins.rowCount ?? 0;
    this.exec(`drop table ${q(tempName)}`);
    return rows;
  }

  // ---------------------------------------------------------------- test

  test(n: ManifestNode): NodeOutcome {
    const sql = this.compiled(n);
    const cfg = n.config;
    const failCalc = String(cfg['fail_calc'] ?? 'count(*)');
    const warnIf = String(cfg['warn_if'] ?? '!= 0');
    const errorIf = String(cfg['error_if'] ?? '!= 0');
    const limit = cfg['limit'] !== undefined && cfg['limit'] !== null ? ` limit ${Number(cfg['limit'])}` : '';
    let main = sql;
    // the test's store_failures (else --store-failures); store_failures_as (table, view,
    // ephemeral) wins over both
    const storeAs = cfg['store_failures_as'] ? String(cfg['store_failures_as']).toLowerCase() : null;
    const configured = cfg['store_failures'];
    const store = storeAs
      ? storeAs !== 'ephemeral'
      : configured === true || (configured !== false && this.rt.opts.flags['STORE_FAILURES'] === true);
    if (store) {
      const schema = n.schema;
      const table = n.alias.slice(0, 63);
      const kind = storeAs === 'view' ? 'view' : 'table';
      this.exec(`create schema if not exists ${q(schema)}`);
      const old = this.rt.getRelation(null, schema, table);
      if (old) this.exec(`drop ${old.type === 'view' ? 'view' : 'table'} if exists ${q(schema)}.${q(table)} cascade`);
      this.exec(`create ${kind} ${q(schema)}.${q(table)} as (\n${sql}\n)`);
      main = `select * from ${q(schema)}.${q(table)}`;
    }
    const r = this.exec(
      `select ${failCalc} as failures, (${failCalc}) ${warnIf} as should_warn, (${failCalc}) ${errorIf} as should_error from (\n${main}${limit}\n) dbt_internal_test`,
    );
    const [failures, shouldWarn, shouldError] = r.rows[0] ?? [0, false, false];
    const count = Number(failures ?? 0);
    const severity = String(cfg['severity'] ?? 'error').toLowerCase();
    let status: NodeOutcome['status'] = 'pass';
    if (severity === 'error' && shouldError) status = 'fail';
    else if (shouldWarn) status = 'warn';
    return {
      status,
      message:
        status === 'pass'
          ? ''
          : `Got ${count} result${count === 1 ? '' : 's'}, configured to ${status} if ${status === 'fail' ? errorIf : warnIf}`,
      rowsAffected: -1,
      failures: count,
    };
  }
}

/** The built-in incremental strategies, as macros projects may override (`get_incremental_<name>_sql`). */
export function strategyMacros(rt: DbtRuntime): Record<string, (...a: unknown[]) => unknown> {
  const cols = (a: Record<string, unknown>) =>
    ((a['dest_columns'] as Column[]) ?? []).map((c) => (typeof c === 'string' ? q(c) : c.quoted)).join(', ');
  const preds = (a: Record<string, unknown>) => asList(a['incremental_predicates']);
  const arg = (x: unknown[]) =>
    (splitArgs(x).positional[0] ?? splitArgs(x).kwargs['arg_dict']) as Record<string, unknown>;
  const append = (a: Record<string, unknown>) =>
    `insert into ${String(a['target_relation'])} (${cols(a)})\n(\n  select ${cols(a)}\n  from ${String(a['temp_relation'])}\n)`;
  const deleteInsert = (a: Record<string, unknown>) => {
    const target = String(a['target_relation']);
    const source = String(a['temp_relation']);
    const key = a['unique_key'];
    const p = preds(a);
    let del = '';
    if (Array.isArray(key) && key.length) {
      del = `delete from ${target}\n    using ${source}\n    where (\n${key.map((k) => `        ${source}.${k} = ${target}.${k}`).join('\n        and ')}\n${p.map((x) => `        and ${x}`).join('\n')}\n    );\n`;
    } else if (key && !Array.isArray(key)) {
      del = `delete from ${target}\n    where (${String(key)}) in (\n        select (${String(key)})\n        from ${source}\n    )${p.map((x) => `\n    and ${x}`).join('')};\n`;
    }
    return `${del}\ninsert into ${target} (${cols(a)})\n(\n    select ${cols(a)}\n    from ${source}\n)`;
  };
  const merge = (a: Record<string, unknown>, node: Record<string, unknown> | undefined) => {
    const target = String(a['target_relation']);
    const source = String(a['temp_relation']);
    const dest = ((a['dest_columns'] as Column[]) ?? []).map((c) => (typeof c === 'string' ? c : c.name));
    const key = a['unique_key'];
    const keys = Array.isArray(key) ? key.map(String) : key ? [String(key)] : [];
    const cfg = (node?.['config'] as Record<string, unknown>) ?? {};
    const updateCols = cfg['merge_update_columns']
      ? asList(cfg['merge_update_columns'])
      : dest.filter(
          (c) =>
            !asList(cfg['merge_exclude_columns'])
              .map((x) => x.toLowerCase())
              .includes(c.toLowerCase()),
        );
    const on = [...keys.map((k) => `DBT_INTERNAL_SOURCE.${k} = DBT_INTERNAL_DEST.${k}`), ...preds(a)];
    const list = dest.map(q).join(', ');
    return (
      `merge into ${target} as DBT_INTERNAL_DEST\n    using ${source} as DBT_INTERNAL_SOURCE\n    on ${on.length ? on.map((x) => `(${x})`).join(' and ') : 'FALSE'}\n` +
      (keys.length && updateCols.length
        ? `    when matched then update set\n        ${updateCols.map((c) => `${q(c)} = DBT_INTERNAL_SOURCE.${q(c)}`).join(',\n        ')}\n`
        : '') +
      `    when not matched then insert\n        (${list})\n    values\n        (${dest.map((c) => `DBT_INTERNAL_SOURCE.${q(c)}`).join(', ')})`
    );
  };
  return {
    get_incremental_append_sql: (...x: unknown[]) => append(arg(x)),
    get_incremental_delete_insert_sql: (...x: unknown[]) => deleteInsert(arg(x)),
    get_incremental_merge_sql: (...x: unknown[]) => merge(arg(x), rt.currentNodeContext()),
    get_incremental_default_sql: (...x: unknown[]) => {
      const a = arg(x);
      const k = a['unique_key'];
      return (Array.isArray(k) ? k.length : k) ? deleteInsert(a) : append(a);
    },
    get_incremental_microbatch_sql: (...x: unknown[]) => deleteInsert(arg(x)),
  };
}
