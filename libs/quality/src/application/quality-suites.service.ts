import { Injectable } from '@nestjs/common';
import type { Expectation } from '../domain/expectations';
import type { QualitySuites, SuiteDependentsProbe } from './quality-gate.port';
import { RegisterSuiteService } from './register-suite.service';
import { SuiteQueriesService } from './suite-queries.service';

/** QUALITY_SUITES: suites other slices manage (dbt tests) and read (impact analysis). */
@Injectable()
export class QualitySuitesService implements QualitySuites {
  constructor(
    private readonly register: RegisterSuiteService,
    private readonly suites: SuiteQueriesService,
  ) {}

  upsertSuite(
    name: string,
    dataset: string,
    expectations: Expectation[],
    meta?: Record<string, unknown>,
  ): Promise<void> {
    return this.register.upsert(name, dataset, expectations, meta);
  }

  addDependentsProbe(probe: SuiteDependentsProbe): void {
    this.register.addDependentsProbe(probe);
  }

  listSuites(dataset?: string): Promise<{ name: string; dataset: string; expectations: Expectation[] }[]> {
    return this.suites.listSuites(dataset);
  }
}
