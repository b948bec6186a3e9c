import { Inject, Injectable } from '@nestjs/common';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { Expectation, EXPECTATION_KWARGS, EXPECTATION_TYPES, isGxType, KwargSpec } from '../domain/expectations';
import { compileSuite } from '../domain/suite-compiler';
import { SuiteNotFoundError } from '../quality.errors';
import { SUITE_STORE, SuiteRecord, SuiteStore } from './ports/suite-store.port';
import { suiteView, SuiteView } from './quality.views';
import { contractColumns, SuiteValidationService } from './suite-validation.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The compiled SQL of a suite (GET /api/quality/suites/:id/sql). */
export interface SuiteSql {
  scan: string;
  params: unknown[];
  queries: { expectation: number; sql: string; params: unknown[] }[];
}

/**
 * Reading suites: GET /api/quality/suites, /suites/:id, /suites/:id/sql, /expectation-types.
 */
@Injectable()
export class SuiteQueriesService {
  constructor(
    @Inject(SUITE_STORE) private readonly store: SuiteStore,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    private readonly validation: SuiteValidationService,
  ) {}

  /** A suite by id or by name; QUALITY.SUITE_NOT_FOUND otherwise. */
  async find(id: string): Promise<SuiteRecord> {
    const e = UUID.test(id) ? await this.store.findById(id) : await this.store.findByName(id);
    if (!e) throw new SuiteNotFoundError(`No suite ${JSON.stringify(id)}`);
    return e;
  }

  async get(id: string): Promise<SuiteView> {
    return suiteView(await this.find(id));
  }

  async list(dataset?: string): Promise<SuiteView[]> {
    return (await this.store.list(dataset)).map(suiteView);
  }

  /** Every suite (or those on `dataset`) with its expectations (QUALITY_SUITES, impact analysis). */
  async listSuites(dataset?: string): Promise<{ name: string; dataset: string; expectations: Expectation[] }[]> {
    return (await this.list(dataset)).map((s) => ({ name: s.name, dataset: s.dataset, expectations: s.expectations }));
  }

  /** Every expectation type Weir runs, with its kwargs and whether GX knows it. */
  expectationTypes(): { type: string; gx: boolean; kwargs: readonly KwargSpec[] }[] {
    return EXPECTATION_TYPES.map((type) => ({ type, gx: isGxType(type), kwargs: EXPECTATION_KWARGS[type] }));
  }

  /** The SQL the suite compiles to on its dataset (one scan plus grouped queries). */
  async sql(id: string): Promise<SuiteSql> {
    const s = await this.find(id);
    const dataset = await this.catalog.getDataset(s.dataset);
    const c = compileSuite(
      { schema: dataset.schema, table: dataset.table },
      contractColumns(dataset.contract),
      await this.validation.resolveRefs(s.expectations),
    );
    const queries = c.plans.flatMap((p) =>
      [p.groupedSql, p.kind === 'distinct' ? p.distinctSql : undefined]
        .filter((x): x is string => !!x)
        .map((sql) => ({ expectation: p.index, sql, params: p.params })),
    );
    return { scan: c.scanSql, params: c.params, queries };
  }
}
