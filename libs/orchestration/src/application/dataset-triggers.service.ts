import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Outbox, OutboxMessage, Queryable } from '@weir/platform';
import { DATASET_UPDATED_TOPIC, DatasetUpdated } from '@weir/catalog';
import { DATASET_TRIGGERS, DatasetTriggers, SeenUpdate } from './ports/dataset-triggers.port';
import { PipelineRunsService } from './pipeline-runs.service';
import { OrchestrationMetrics } from './orchestration.metrics';

/**
 * trigger-on-datasets: data-aware schedules, fired by the catalog's publish events
 * (`weir.dataset.updated`, one per recorded load or build, through the outbox) — never by polling
 * tables. `when: any` runs the pipeline once per update; `when: all` (default) once every dataset
 * of the set was updated since its last run, as Airflow's dataset schedules do.
 *
 * Exactly once per publish: the outbox hands each event over at least once, in a transaction that
 * also holds what this records (the updates seen), and the run it starts has an idempotency key
 * made of the events that started it, so a delivery repeated after a crash finds that run.
 */
@Injectable()
export class DatasetTriggersService implements OnModuleInit {
  private readonly log = new Logger('orchestration');

  constructor(
    private readonly outbox: Outbox,
    @Inject(DATASET_TRIGGERS) private readonly triggers: DatasetTriggers,
    private readonly runs: PipelineRunsService,
    private readonly metrics: OrchestrationMetrics,
  ) {}

  onModuleInit(): void {
    this.outbox.subscribe<DatasetUpdated>(
      DATASET_UPDATED_TOPIC,
      async (msgs, tx) => {
        await this.onUpdates(msgs, tx);
      },
      { batchSize: 50 },
    );
  }

  /** Each update, to the pipelines whose schedule names its dataset. Returns the runs started. */
  async onUpdates(msgs: OutboxMessage<DatasetUpdated>[], tx: Queryable): Promise<string[]> {
    const started: string[] = [];
    for (const m of msgs) {
      const u = m.payload;
      const seen: SeenUpdate = { dataset: u.dataset, eventId: String(m.id), runId: u.runId, at: u.at };
      for (const p of await this.triggers.listeners(tx, u.dataset)) {
        const s = p.spec.schedule;
        if (!s?.datasets) continue;
        if (s.when === 'any') {
          started.push(await this.fire(p, [seen]));
          continue;
        }
        await this.triggers.lock(tx, p.id);
        await this.triggers.record(tx, p.id, seen);
        const all = new Map((await this.triggers.seen(tx, p.id)).map((x) => [x.dataset, x]));
        const missing = s.datasets.filter((d) => !all.has(d));
        if (missing.length) {
          this.log.log(`pipeline ${p.name}: ${u.dataset} updated; waiting for ${missing.join(', ')}`);
          continue;
        }
        started.push(
          await this.fire(
            p,
            s.datasets.map((d) => all.get(d)!),
          ),
        );
        await this.triggers.clear(tx, p.id);
      }
    }
    return started;
  }

  private async fire(p: { id: string; name: string }, updates: SeenUpdate[]): Promise<string> {
    const events = updates.map((x) => x.eventId).sort((a, b) => Number(a) - Number(b));
    const key = `datasets:${createHash('sha256').update(events.join(',')).digest('hex').slice(0, 40)}`;
    const { run, created } = await this.runs.start(p.id, {
      trigger: 'dataset',
      idempotencyKey: key,
      params: { datasets: updates.map((x) => ({ dataset: x.dataset, runId: x.runId, at: x.at })) },
      createdBy: 'datasets',
    });
    if (created) {
      this.metrics.datasetTriggers.inc({ pipeline: p.name });
      this.log.log(`pipeline ${p.name}: run ${run.id} started by ${updates.map((x) => x.dataset).join(', ')}`);
    }
    return run.id;
  }
}
