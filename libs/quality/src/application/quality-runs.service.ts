import { Injectable } from '@nestjs/common';
import { parseQualifiedName } from '@weir/platform';
import type { QualityRunsPort, RunQualityRequest } from './ports/quality-runs.port';
import type { QualityRunView } from './quality.views';
import { RunQueriesService } from './run-queries.service';
import { RunSuiteService } from './run-suite.service';
import { SuiteQueriesService } from './suite-queries.service';
import { NoSuitesError, NothingToRunError } from '../quality.errors';

/** QUALITY_RUNS: suites run on demand by other slices. */
@Injectable()
export class QualityRunsService implements QualityRunsPort {
  constructor(
    private readonly runner: RunSuiteService,
    private readonly suites: SuiteQueriesService,
    private readonly runs: RunQueriesService,
  ) {}

  async run(req: RunQualityRequest): Promise<QualityRunView[]> {
    const target = req.table ? parseQualifiedName(req.table, 'raw') : undefined;
    const opts = { target, trigger: req.trigger ?? 'api', triggerRef: req.triggerRef, parent: req.parent } as const;
    if (req.suite) return [await this.runner.run(req.suite, opts)];
    if (!req.dataset) throw new NothingToRunError('Name a suite or a dataset');
    const suites = await this.suites.list(req.dataset);
    if (suites.length === 0) throw new NoSuitesError(`Dataset ${JSON.stringify(req.dataset)} has no quality suite`);
    const runs: QualityRunView[] = [];
    for (const s of suites) runs.push(await this.runner.run(s.id, opts));
    return runs;
  }

  get(id: string): Promise<QualityRunView> {
    return this.runs.getRun(id);
  }
}
