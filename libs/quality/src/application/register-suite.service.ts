import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { describeDependents } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import type { Expectation } from '../domain/expectations';
import { SuiteExistsError, SuiteInUseError, SuiteNotFoundError } from '../quality.errors';
import type { SuiteDependentsProbe } from './quality-gate.port';
import { SUITE_STORE, SuiteNameTakenError, SuiteStore } from './ports/suite-store.port';
import { SuiteInput, suiteView, SuiteView } from './quality.views';
import { SuiteQueriesService } from './suite-queries.service';
import { SuiteValidationService } from './suite-validation.service';

/**
 * Registering suites: POST /api/quality/suites, PUT and DELETE /suites/:id, and suites other slices
 * manage (QUALITY_SUITES.upsertSuite: dbt YAML tests).
 */
@Injectable()
export class RegisterSuiteService implements OnModuleInit {
  private readonly probes: SuiteDependentsProbe[] = [];

  constructor(
    @Inject(SUITE_STORE) private readonly store: SuiteStore,
    private readonly validation: SuiteValidationService,
    private readonly suites: SuiteQueriesService,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
  ) {}

  onModuleInit(): void {
    // a dataset that suites check is not deleted from the catalog
    this.catalog.addDependentsProbe(async (d) =>
      (await this.store.list(d.name)).map((s) => ({ kind: 'suite', name: s.name, detail: 'checks it' })),
    );
  }

  addDependentsProbe(probe: SuiteDependentsProbe): void {
    this.probes.push(probe);
  }

  async create(input: SuiteInput): Promise<SuiteView> {
    const expectations = await this.validation.check(input);
    try {
      return suiteView(
        await this.store.insert({ name: input.name, dataset: input.dataset, expectations, meta: input.meta ?? null }),
      );
    } catch (e) {
      if (e instanceof SuiteNameTakenError) throw new SuiteExistsError(e.message);
      throw e;
    }
  }

  async replace(id: string, input: SuiteInput): Promise<SuiteView> {
    const e = await this.suites.find(id);
    const expectations = await this.validation.check(input);
    try {
      const saved = await this.store.update(e.id, {
        name: input.name,
        dataset: input.dataset,
        expectations,
        meta: input.meta ?? null,
      });
      if (!saved) throw new SuiteNotFoundError(`No suite ${JSON.stringify(id)}`);
      return suiteView(saved);
    } catch (err) {
      if (err instanceof SuiteNameTakenError) throw new SuiteExistsError(err.message);
      throw err;
    }
  }

  /**
   * Deletes a suite, softly: gone from names, lists and the checks of its dataset (the name can be
   * used again), its runs, results and metrics stay readable (`GET /runs?suite=<its id>`). Refused
   * with QUALITY.SUITE_IN_USE while a pipeline step runs it.
   */
  async remove(id: string): Promise<void> {
    const e = await this.suites.find(id);
    const dependents = (await Promise.all(this.probes.map((p) => p(e)))).flat();
    if (dependents.length)
      throw new SuiteInUseError(describeDependents(`Suite "${e.name}"`, dependents, 'change those steps first'), {
        dependents,
      });
    await this.store.remove(e.id);
  }

  /** Creates or replaces the suite `name` (used by other slices, e.g. dbt YAML tests); an empty list removes it. */
  async upsert(
    name: string,
    dataset: string,
    expectations: Expectation[],
    meta?: Record<string, unknown>,
  ): Promise<void> {
    const existing = await this.store.findByName(name);
    if (expectations.length === 0) {
      if (existing) await this.store.remove(existing.id);
      return;
    }
    const checked = await this.validation.check({ name, dataset, expectations, meta });
    const suite = { name, dataset, expectations: checked, meta: meta ?? null };
    if (existing) await this.store.update(existing.id, suite);
    else await this.store.insert(suite);
  }
}
