import { Inject, Injectable, Logger } from '@nestjs/common';
import { qualifiedTable, quoteIdent, Warehouse, writeAsWriter } from '@weir/platform';
import { CATALOG, CatalogPort, classifyChange, ColumnContract, DatasetContract } from '@weir/catalog';
import { GateFailedError, QUALITY_GATE, QUALITY_SUITES, QualityGate, QualitySuites } from '@weir/quality';
import { CompiledNode, CompiledProject, renderDescription } from '../../domain/compile';
import type { Project } from '../../domain/project';
import { yamlTests } from '../../domain/yaml-tests';
import {
  BadConfigError,
  BreakingChangeError,
  ContractViolatedError,
  DependentObjectsError,
  ModelSqlFailedError,
  UnsupportedTestError,
  VersionRegressionError,
} from '../../modeling.errors';
import type { StepPatch } from '../modeling.views';
import type { Materializer, StepContext } from './materializer';
import { asSubquery, contractDiff, contractType, dropKind, prepareModelWriter, RELATION_KINDS } from './relations';

/** `view` and `table`: built beside the live relation, audited, then swapped in one transaction. */
@Injectable()
export class TableViewMaterializer implements Materializer {
  private readonly log = new Logger('modeling');

  constructor(
    private readonly warehouse: Warehouse,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    @Inject(QUALITY_GATE) private readonly gate: QualityGate,
    @Inject(QUALITY_SUITES) private readonly suites: QualitySuites,
  ) {}

  materialize(ctx: StepContext): Promise<StepPatch> {
    return this.model(ctx.project, ctx.compiled, ctx.node);
  }

  /** A view or table: build a new relation, audit it, swap it in; the old version stays live on failure. */
  async model(
    project: Project,
    compiled: CompiledProject,
    n: CompiledNode,
    uniqueKey: string[] = [],
  ): Promise<StepPatch> {
    const building = `__weir_build_${n.table}`.slice(0, 63);
    // the relation is the model's alias when it has one (config alias), else its name
    const target = qualifiedTable(n.schema, n.table);
    const fresh = qualifiedTable(n.schema, building);
    const kind = n.materialized === 'view' ? 'VIEW' : 'TABLE';
    await this.warehouse.ensureSchema(n.schema);
    await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`);
    await prepareModelWriter(this.warehouse, n, (m) => this.log.warn(m));
    let rows: number | null = null;
    try {
      const r = await writeAsWriter(
        this.warehouse.pool,
        `CREATE ${kind} ${fresh} AS ${asSubquery(n.compiledSql!)}`,
        (m) => this.log.warn(m),
      );
      rows = kind === 'TABLE' ? r : null;
      if (uniqueKey.length) {
        // incremental models merge on their unique_key: the index makes that (and the key) hold
        await this.warehouse.query(
          `CREATE UNIQUE INDEX ${quoteIdent(`${building}_uk`.slice(0, 63))} ON ${fresh} (${uniqueKey.map((k) => quoteIdent(k, 'column')).join(', ')})`,
        );
      }
    } catch (e) {
      throw new ModelSqlFailedError(`${n.path}: ${(e as Error).message}`);
    }
    // the dataset's contract follows the built relation; YAML tests become its quality suite
    const columns = await this.warehouse.query<{
      column_name: string;
      data_type: string;
      numeric_precision: number | null;
      numeric_scale: number | null;
      is_nullable: string;
    }>(
      `SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [n.schema, building],
    );
    const props = project.properties.get(n.name);
    const enforced = (n.config['contract'] as { enforced?: unknown } | undefined)?.enforced === true;
    if (enforced) {
      const built = await this.warehouse.query<{ name: string; type: string }>(
        `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [fresh],
      );
      const diff = contractDiff(props?.columns ?? [], built);
      if (diff.length) {
        await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
        throw new ContractViolatedError(
          `${n.path}: the enforced contract does not match the built columns: ${diff.join('; ')}`,
        );
      }
    }
    const contract: DatasetContract = {
      columns: columns.map((c): ColumnContract => ({
        name: c.column_name,
        type: contractType(c.data_type, c.numeric_precision, c.numeric_scale),
        nullable: true,
        ...(props?.columns?.find((x) => x.name === c.column_name)?.description
          ? {
              description: renderDescription(
                props!.columns!.find((x) => x.name === c.column_name)!.description,
                project.docs,
                props!.file,
              ),
            }
          : {}),
      })),
    };
    // classify the schema change against the live version, and name who reads this model
    const before = await this.catalog.findDataset(n.name);
    const change = before ? classifyChange(before.contract, contract) : undefined;
    const downstream = [...compiled.nodes.values()].filter((x) => x.dependsOn.includes(n.id)).map((x) => x.id);
    const schemaChange =
      change && change.kind !== 'none'
        ? {
            kind: change.kind,
            details: change.details,
            ...(change.kind === 'breaking' ? { affectedDownstream: downstream } : {}),
          }
        : undefined;
    if (schemaChange?.kind === 'breaking')
      this.log.warn(
        `${n.id}: breaking schema change (${change!.details.join('; ')}); downstream: ${downstream.join(', ') || 'none'}`,
      );
    // versioned datasets (config `version: N`): a breaking change needs a new version; the old one stays readable
    const declared = n.config['version'] === undefined ? undefined : Number(n.config['version']);
    if (declared !== undefined && (!Number.isInteger(declared) || declared < 1)) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw new BadConfigError(`${n.path}: version must be a positive integer`);
    }
    const published = before?.release ?? null;
    if (published !== null && declared !== undefined && declared < published) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw new VersionRegressionError(`${n.path}: version ${declared} is below the published version ${published}`);
    }
    if (change?.kind === 'breaking' && published !== null && (declared === undefined || declared <= published)) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw new BreakingChangeError(
        `${n.path}: breaking change to ${n.name} v${published} (${change.details.join('; ')}); downstream: ${downstream.join(', ') || 'none'}. Declare version: ${published + 1} to publish it as a new version (v${published} stays readable as ${n.table}_v${published})`,
      );
    }
    const newVersion = published !== null && declared !== undefined && declared > published;
    try {
      await this.catalog.ensureDataset(
        {
          name: n.name,
          schema: n.schema,
          table: n.table,
          contract,
          description: renderDescription(props?.description, project.docs, props?.file) ?? null,
          tags: [...n.tags, `project:${project.name}`],
          managedBy: `modeling:${project.name}`,
        },
        `modeling:${project.name}`,
      );
      await this.syncYamlSuite(project, compiled, n);
      const verdict = await this.gate.check({
        dataset: n.name,
        schema: n.schema,
        table: building,
        runId: `build:${n.id}`,
        rows: rows ?? 0,
      });
      if (!verdict.passed) {
        throw new GateFailedError(
          `audit failed, the old version stays live: ${verdict.failures
            .filter((f) => f.severity === 'error')
            .map((f) => f.message)
            .join('; ')}`,
        );
      }
      let replaced: string | undefined;
      await this.warehouse.transaction(async (c) => {
        const was = (await c.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [target])).rows[0]
          ?.relkind as string | undefined;
        if (was !== undefined && (was === 'v') !== (kind === 'VIEW')) replaced = RELATION_KINDS[was] ?? was;
        if (was !== undefined && newVersion) {
          // the published version stays readable under its versioned name until retired
          await c.query(
            `ALTER ${dropKind(was)} ${target} RENAME TO ${quoteIdent(`${n.table}_v${published}`.slice(0, 63))}`,
          );
        } else if (was !== undefined) {
          try {
            // whatever the relation was (a view, a table, a materialized view), it is replaced, never written into
            await c.query(`DROP ${dropKind(was)} ${target}`);
          } catch (e) {
            if ((e as { code?: string }).code === '2BP01') {
              throw new DependentObjectsError(
                `${target} has dependent views; build them in the same selection (${n.name}+)`,
              );
            }
            throw e;
          }
        }
        await c.query(`ALTER ${kind} ${fresh} RENAME TO ${quoteIdent(n.table)}`);
        if (uniqueKey.length)
          await c.query(
            `ALTER INDEX ${qualifiedTable(n.schema, `${building}_uk`.slice(0, 63))} RENAME TO ${quoteIdent(`${n.table}_uk`.slice(0, 63))}`,
          );
      });
      if (declared !== undefined && declared !== published) await this.catalog.setRelease(n.name, declared);
      const refs = {
        ...(replaced ? { replaced: { was: replaced, now: kind === 'VIEW' ? 'view' : 'table' } } : {}),
        ...(verdict.runIds?.length ? { qualityRuns: verdict.runIds } : {}),
        ...(schemaChange ? { schemaChange } : {}),
        ...(newVersion ? { published: declared, previousVersion: `${n.schema}.${n.table}_v${published}` } : {}),
      };
      return { rowsAffected: rows === null ? null : String(rows), refs: Object.keys(refs).length ? refs : null };
    } catch (e) {
      await this.warehouse.query(`DROP ${kind} IF EXISTS ${fresh}`).catch(() => undefined);
      throw e;
    }
  }

  /** The model's YAML tests as a quality suite named `dbt:<project>:<model>` (through the quality slice). */
  private async syncYamlSuite(project: Project, compiled: CompiledProject, n: CompiledNode): Promise<void> {
    const props = project.properties.get(n.name);
    const { expectations, problems } = props
      ? yamlTests(props, (ref) => {
          const t = compiled.nodes.get(`model.${ref}`) ?? compiled.nodes.get(`seed.${ref}`);
          return t ? `${t.schema}.${t.table}` : undefined; // the relation: a model's alias when it has one
        })
      : { expectations: [], problems: [] };
    if (problems.length) throw new UnsupportedTestError(problems.join('; '));
    await this.suites.upsertSuite(`dbt:${project.name}:${n.name}`.slice(0, 100), n.name, expectations, {
      source: 'dbt schema.yml',
      anomalies: { enabled: false },
    });
  }
}
