import { Inject, Injectable } from '@nestjs/common';
import { SUITE_STORE, SuiteStore } from './ports/suite-store.port';
import type { QualityGate, QualityGateInput, QualityGateResult } from './quality-gate.port';
import { RunSuiteService } from './run-suite.service';

/** QUALITY_GATE: the dataset's suites on the staged rows; error-severity failures block publishing. */
@Injectable()
export class QualityGateService implements QualityGate {
  constructor(
    @Inject(SUITE_STORE) private readonly store: SuiteStore,
    private readonly runner: RunSuiteService,
  ) {}

  async hasChecks(dataset: string): Promise<boolean> {
    return (await this.store.countFor(dataset)) > 0;
  }

  async check(input: QualityGateInput): Promise<QualityGateResult> {
    const suites = await this.store.list(input.dataset);
    const failures: QualityGateResult['failures'] = [];
    const runIds: string[] = [];
    for (const s of suites) {
      const run = await this.runner.run(s.id, {
        target: { schema: input.schema, table: input.table },
        trigger: 'gate',
        triggerRef: input.runId,
      });
      runIds.push(run.id);
      for (const r of run.results.filter((x) => !x.success)) {
        failures.push({
          check: `${s.name}#${r.index + 1} ${r.type}`,
          severity: r.severity === 'warn' ? 'warning' : 'error',
          message: `${s.name}: ${r.type}(${JSON.stringify(r.kwargs['column'] ?? r.kwargs['column_list'] ?? '')}) failed${r.unexpectedCount !== undefined ? `, ${r.unexpectedCount} unexpected` : ''}${r.observedValue !== undefined ? `, observed ${JSON.stringify(r.observedValue)}` : ''}${r.exception ? `: ${r.exception}` : ''} (quality run ${run.id})`,
          observed: r.observedValue,
        });
      }
    }
    return { passed: !failures.some((f) => f.severity === 'error'), failures, runIds };
  }
}
