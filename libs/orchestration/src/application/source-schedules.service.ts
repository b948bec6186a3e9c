import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { DomainError, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { SourcesService, SourceView } from '@weir/ingestion';
import { PipelineExistsError } from '../orchestration.errors';
import { PipelinesService } from './pipelines.service';

/** How often instances with the scheduler role bring source pipelines in line with the sources. */
const SYNC_MS = 5000;
const KEEPER = 'ingestion:source:';

/** `source_<name>` in a pipeline's alphabet (lower case, `_`), at most 63 characters. */
export function sourcePipelineName(source: string, id?: string): string {
  const slug = source.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  return id ? `source_${slug.slice(0, 46)}_${id.slice(0, 8)}` : `source_${slug}`.slice(0, 63);
}

/**
 * keep-source-schedules: the schedule of an ingestion source is a one-step pipeline of this slice
 * (kept by `ingestion:source:<id>`, named `source_<name>`), so one scheduler fires every schedule:
 * its ticks are claimed once across instances, shown with the other runs, alerted and measured
 * the same way. Its `ingest` step loads what a scheduled load of the source takes — each inbox file
 * not loaded before, or `location.path` unless those bytes were loaded already — with trigger
 * `schedule`, as the source's schedule always did. The pipeline follows the source: made when it
 * gets a schedule, a new version when it changes, unscheduled when the schedule goes (its runs stay),
 * removed with the source. A schedule that cannot be armed is recorded on the source (`scheduleError`).
 * Changes reach the pipeline at once on the instance that made them, and within {@link SYNC_MS}
 * from any other (instances with the scheduler role compare every source with its pipeline).
 */
@Injectable()
export class SourceSchedulesService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('orchestration');
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;

  constructor(
    private readonly sources: SourcesService,
    private readonly pipelines: PipelinesService,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.sources.onChange(
      (s, id) =>
        void this.keep(s ? { ...s, scheduleError: s.scheduleError ?? null } : null, id).catch((e: Error) =>
          this.log.warn(`source ${id}: its schedule's pipeline: ${e.message}`),
        ),
    );
    if (!this.config.roles.has('scheduler')) return;
    const run = () => {
      if (!this.syncing) this.syncing = this.sync().finally(() => (this.syncing = undefined));
    };
    run();
    this.timer = setInterval(run, SYNC_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
  }

  /** Every source's pipeline as its schedule says; pipelines of sources gone are removed. */
  async sync(): Promise<void> {
    try {
      const sources = await this.sources.list();
      for (const s of sources)
        await this.keep(s, s.id).catch((e: Error) => this.log.warn(`source ${s.name}: ${e.message}`));
      const ids = new Set(sources.map((s) => s.id));
      for (const p of await this.pipelines.managed(KEEPER))
        if (!ids.has(p.managedBy!.slice(KEEPER.length))) await this.pipelines.forget(p.managedBy!);
    } catch (e) {
      this.log.warn(`source schedules: ${(e as Error).message}`);
    }
  }

  /** The source's pipeline, as its schedule is now (null: the source is gone). */
  async keep(s: Pick<SourceView, 'id' | 'name' | 'schedule' | 'scheduleError'> | null, id: string): Promise<void> {
    const keeper = `${KEEPER}${id}`;
    if (!s) return this.pipelines.forget(keeper);
    const current = await this.pipelines.kept(keeper);
    if (!s.schedule) {
      // unscheduled: the pipeline stays (with its runs), without a schedule
      if (current?.spec.schedule) await this.pipelines.keep(keeper, this.definition(s, current.name));
      return;
    }
    try {
      try {
        await this.pipelines.keep(keeper, this.definition(s, current?.name ?? sourcePipelineName(s.name)));
      } catch (e) {
        if (!(e instanceof PipelineExistsError)) throw e;
        // a pipeline people made has the name: this one takes the source's id too
        await this.pipelines.keep(keeper, this.definition(s, sourcePipelineName(s.name, id)));
      }
      if (s.scheduleError) await this.sources.setScheduleError(id, null);
    } catch (e) {
      if (!(e instanceof DomainError) || e instanceof PipelineExistsError) throw e;
      // a schedule that cannot be armed (stored before it was checked, or by hand): said on the source
      const why = ((e.extra?.['problems'] as string[] | undefined) ?? [e.message]).join('; ');
      if (s.scheduleError !== why) {
        this.log.error(
          `source ${s.name}: its schedule is disabled: ${why}; change the source's schedule to arm it again`,
        );
        await this.sources.setScheduleError(id, why);
      }
      if (current?.spec.schedule)
        await this.pipelines.keep(keeper, this.definition({ ...s, schedule: null }, current.name));
    }
  }

  private definition(s: Pick<SourceView, 'id' | 'name' | 'schedule'>, name: string): Record<string, unknown> {
    return {
      name,
      description: `The schedule of ingestion source ${s.name}: kept by the source (change its schedule there)`,
      ...(s.schedule
        ? { schedule: { cron: s.schedule.cron, timezone: s.schedule.timezone ?? 'UTC', catchup: 'none' } }
        : {}),
      max_active_runs: 1,
      steps: [{ id: 'load', kind: 'ingest', source: s.id, skip_loaded: true }],
    };
  }
}
