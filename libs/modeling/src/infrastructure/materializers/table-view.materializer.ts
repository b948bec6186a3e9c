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
import type { StepPatch } from '../../application/modeling.views';
import type { Materializer, StepContext } from '../../application/ports/materializer.port';
import {
  asSubquery,
  contractDiff,
  dropKind,
  prepareModelWriter,
  RELATION_KINDS,
  relationColumns,
} from './relations.util';

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
    const b = relationsOf(n);
    const rows = await this.buildBeside(n, b, uniqueKey);
    const drop = () => this.warehouse.query(`DROP ${b.kind} IF EXISTS ${b.fresh}`).catch(() => undefined);
    try {
      const props = project.properties.get(n.name);
      const contract = await this.builtContract(project, n, b);
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
      if (change?.kind === 'breaking')
        this.log.warn(
          `${n.id}: breaking schema change (${change.details.join('; ')}); downstream: ${downstream.join(', ') || 'none'}`,
        );
      const version = checkVersion(n, before?.release ?? null, change, downstream);
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
        table: b.building,
        runId: `build:${n.id}`,
        rows: rows ?? 0,
      });
      if (!verdict.passed) {
        const errors = verdict.failures.filter((f) => f.severity === 'error').map((f) => f.message);
        throw new GateFailedError(`audit failed, the old version stays live: ${errors.join('; ')}`);
      }
      const replaced = await this.swapIn(n, b, uniqueKey, version);
      if (version.declared !== undefined && version.declared !== version.published)
        await this.catalog.setRelease(n.name, version.declared);
      const refs = {
        ...(replaced ? { replaced: { was: replaced, now: b.kind === 'VIEW' ? 'view' : 'table' } } : {}),
        ...(verdict.runIds?.length ? { qualityRuns: verdict.runIds } : {}),
        ...(schemaChange ? { schemaChange } : {}),
        ...(version.newVersion
          ? { published: version.declared, previousVersion: `${n.schema}.${n.table}_v${version.published}` }
          : {}),
      };
      return { rowsAffected: rows === null ? null : String(rows), refs: Object.keys(refs).length ? refs : null };
    } catch (e) {
      await drop();
      throw e;
    }
  }

  /** Builds the model beside its live relation (as the warehouse writer); returns a table's row count. */
  private async buildBeside(n: CompiledNode, b: BuildRelations, uniqueKey: string[]): Promise<number | null> {
    await this.warehouse.ensureSchema(n.schema);
    await this.warehouse.query(`DROP ${b.kind} IF EXISTS ${b.fresh}`);
    await prepareModelWriter(this.warehouse, n, (m) => this.log.warn(m));
    try {
      const r = await writeAsWriter(
        this.warehouse.pool,
        `CREATE ${b.kind} ${b.fresh} AS ${asSubquery(n.compiledSql!)}`,
        (m) => this.log.warn(m),
      );
      if (uniqueKey.length) {
        // incremental models merge on their unique_key: the index makes that (and the key) hold
        const cols = uniqueKey.map((k) => quoteIdent(k, 'column')).join(', ');
        await this.warehouse.query(
          `CREATE UNIQUE INDEX ${quoteIdent(`${b.building}_uk`.slice(0, 63))} ON ${b.fresh} (${cols})`,
        );
      }
      return b.kind === 'TABLE' ? r : null;
    } catch (e) {
      throw new ModelSqlFailedError(`${n.path}: ${(e as Error).message}`);
    }
  }

  /**
   * The dataset's contract, read from the built relation (with the YAML's descriptions); with
   * `contract: {enforced: true}` the built columns must match the declared ones exactly.
   */
  private async builtContract(project: Project, n: CompiledNode, b: BuildRelations): Promise<DatasetContract> {
    const columns = await relationColumns(this.warehouse, n.schema, b.building);
    const props = project.properties.get(n.name);
    if ((n.config['contract'] as { enforced?: unknown } | undefined)?.enforced === true) {
      const built = await this.warehouse.query<{ name: string; type: string }>(
        `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [b.fresh],
      );
      const diff = contractDiff(props?.columns ?? [], built);
      if (diff.length) {
        throw new ContractViolatedError(
          `${n.path}: the enforced contract does not match the built columns: ${diff.join('; ')}`,
        );
      }
    }
    return {
      columns: columns.map((c): ColumnContract => {
        const described = props?.columns?.find((x) => x.name === c.name)?.description;
        return described ? { ...c, description: renderDescription(described, project.docs, props!.file) } : c;
      }),
    };
  }

  /**
   * One transaction: whatever the live relation was (a view, a table, a materialized view) is
   * replaced — never written into — or, for a new version, kept readable under its versioned name;
   * the new one takes its name. Returns the old relation's kind when it changed.
   */
  private async swapIn(
    n: CompiledNode,
    b: BuildRelations,
    uniqueKey: string[],
    v: VersionCheck,
  ): Promise<string | undefined> {
    let replaced: string | undefined;
    await this.warehouse.transaction(async (c) => {
      const was = (await c.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [b.target])).rows[0]
        ?.relkind as string | undefined;
      if (was !== undefined && (was === 'v') !== (b.kind === 'VIEW')) replaced = RELATION_KINDS[was] ?? was;
      if (was !== undefined && v.newVersion) {
        const versioned = quoteIdent(`${n.table}_v${v.published}`.slice(0, 63));
        await c.query(`ALTER ${dropKind(was)} ${b.target} RENAME TO ${versioned}`);
      } else if (was !== undefined) {
        try {
          await c.query(`DROP ${dropKind(was)} ${b.target}`);
        } catch (e) {
          if ((e as { code?: string }).code === '2BP01') {
            throw new DependentObjectsError(
              `${b.target} has dependent views; build them in the same selection (${n.name}+)`,
            );
          }
          throw e;
        }
      }
      await c.query(`ALTER ${b.kind} ${b.fresh} RENAME TO ${quoteIdent(n.table)}`);
      if (uniqueKey.length) {
        const index = qualifiedTable(n.schema, `${b.building}_uk`.slice(0, 63));
        await c.query(`ALTER INDEX ${index} RENAME TO ${quoteIdent(`${n.table}_uk`.slice(0, 63))}`);
      }
    });
    return replaced;
  }

  /** The model's YAML tests as a quality suite named `dbt:<project>:<model>` (through the quality slice). */
  private async syncYamlSuite(project: Project, compiled: CompiledProject, n: CompiledNode): Promise<void> {
    const props = project.properties.get(n.name);
    const { expectations, problems } = props
      ? yamlTests(
          props,
          (ref) => {
            const t = compiled.nodes.get(`model.${ref}`) ?? compiled.nodes.get(`seed.${ref}`);
            return t ? `${t.schema}.${t.table}` : undefined; // the relation: a model's alias when it has one
          },
          compiled.dbtTests?.[n.name],
        )
      : { expectations: [], problems: [] };
    if (problems.length) throw new UnsupportedTestError(problems.join('; '));
    await this.suites.upsertSuite(`dbt:${project.name}:${n.name}`.slice(0, 100), n.name, expectations, {
      source: 'dbt schema.yml',
      anomalies: { enabled: false },
    });
  }
}

/** The relations of one build of a model: the live one, the one built beside it, and their kind. */
interface BuildRelations {
  /** `"schema"."table"`: the relation is the model's alias when it has one (config alias), else its name. */
  target: string;
  /** The scratch relation's name, and it quoted. */
  building: string;
  fresh: string;
  kind: 'VIEW' | 'TABLE';
}

function relationsOf(n: CompiledNode): BuildRelations {
  const building = `__weir_build_${n.table}`.slice(0, 63);
  return {
    target: qualifiedTable(n.schema, n.table),
    building,
    fresh: qualifiedTable(n.schema, building),
    kind: n.materialized === 'view' ? 'VIEW' : 'TABLE',
  };
}

interface VersionCheck {
  declared: number | undefined;
  published: number | null;
  newVersion: boolean;
}

/**
 * Versioned datasets (config `version: N`): a breaking change needs a new version, a version never
 * goes down, and the published version stays readable (`<table>_v<N>`) when a new one goes live.
 */
function checkVersion(
  n: CompiledNode,
  published: number | null,
  change: { kind: string; details: string[] } | undefined,
  downstream: string[],
): VersionCheck {
  const declared = n.config['version'] === undefined ? undefined : Number(n.config['version']);
  if (declared !== undefined && (!Number.isInteger(declared) || declared < 1)) {
    throw new BadConfigError(`${n.path}: version must be a positive integer`);
  }
  if (published !== null && declared !== undefined && declared < published) {
    throw new VersionRegressionError(`${n.path}: version ${declared} is below the published version ${published}`);
  }
  if (change?.kind === 'breaking' && published !== null && (declared === undefined || declared <= published)) {
    throw new BreakingChangeError(
      `${n.path}: breaking change to ${n.name} v${published} (${change.details.join('; ')}); downstream: ${downstream.join(', ') || 'none'}. Declare version: ${published + 1} to publish it as a new version (v${published} stays readable as ${n.table}_v${published})`,
    );
  }
  return { declared, published, newVersion: published !== null && declared !== undefined && declared > published };
}
