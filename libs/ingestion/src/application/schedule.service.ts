import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { SOURCE_REPOSITORY, SourceRecord, SourceRepository } from './ports/source-repository.port';
import { fileChecksum, resolveInRoot } from '../infrastructure/input-file.util';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { scheduleProblem } from '../domain/schedule-check';
import { RunsService } from './runs.service';
import { SourcesService } from './sources.service';

/** `*.csv`, `orders-??.csv.gz` → a RegExp on file names. */
export function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

const jobName = (id: string) => `ingestion-source:${id}`;
const SYNC_MS = 5000;

/**
 * Scheduled ingestion: one dynamic cron job per scheduled source (SchedulerRegistry), changed
 * with the source without a restart. Each tick is claimed by inserting (source, scheduled time)
 * under a primary key, so with several instances each tick runs once. Inbox files load once each
 * (by checksum).
 */
@Injectable()
export class ScheduleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ingestion');
  private readonly instance = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private active = false;
  private sync?: NodeJS.Timeout;
  /** cron+timezone each registered job was made from, to notice changes made by other instances. */
  private readonly specs = new Map<string, string>();

  constructor(
    private readonly registry: SchedulerRegistry,
    @Inject(SOURCE_REPOSITORY) private readonly repo: SourceRepository,
    private readonly sources: SourcesService,
    private readonly runs: RunsService,
    @Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig,
    @Inject(WEIR_CONFIG) private readonly config: WeirConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('scheduler')) return;
    this.active = true;
    this.sources.onChange((s, id) => this.register(s, id));
    await this.syncFromDatabase();
    // Other instances change sources too: converge on the database every few seconds.
    this.sync = setInterval(
      () => void this.syncFromDatabase().catch((e) => this.log.warn(`schedule sync: ${(e as Error).message}`)),
      SYNC_MS,
    );
    this.sync.unref();
  }

  /** Registers, changes or removes jobs so they match the sources' schedules in the database. */
  async syncFromDatabase(): Promise<void> {
    if (!this.active) return;
    const all = await this.repo.list();
    const seen = new Set<string>();
    for (const s of all) {
      seen.add(s.id);
      const spec = s.schedule ? JSON.stringify([s.schedule.cron, s.schedule.timezone ?? null]) : '';
      if ((this.specs.get(s.id) ?? '') !== spec) this.register(s, s.id);
    }
    for (const id of [...this.specs.keys()]) if (!seen.has(id)) this.register(null, id);
  }

  onApplicationShutdown(): void {
    this.active = false;
    if (this.sync) clearInterval(this.sync);
    for (const name of this.registry.getCronJobs().keys()) {
      if (name.startsWith('ingestion-source:')) {
        void this.registry.getCronJob(name).stop();
        this.registry.deleteCronJob(name);
      }
    }
  }

  /** Adds, replaces or removes the source's cron job. */
  register(source: SourceRecord | null, id: string): void {
    if (!this.active) return;
    const name = jobName(id);
    if (this.registry.doesExist('cron', name)) {
      void this.registry.getCronJob(name).stop();
      this.registry.deleteCronJob(name);
    }
    this.specs.delete(id);
    if (!source?.schedule) return;
    this.specs.set(id, JSON.stringify([source.schedule.cron, source.schedule.timezone ?? null]));
    // a stored schedule that cannot be armed (written before it was validated, or by hand) is
    // disabled with its reason on the source, never fatal to the process
    const why = scheduleProblem(source.schedule.cron, source.schedule.timezone);
    let job: CronJob | undefined;
    try {
      if (!why) {
        job = CronJob.from({
          cronTime: source.schedule.cron,
          timeZone: source.schedule.timezone,
          start: false,
          onTick: () => void this.tick(id, new Date(Math.floor(Date.now() / 1000) * 1000)),
        });
      }
    } catch (e) {
      job = undefined;
      void this.disable(source, (e as Error).message.split('\n')[0]);
      return;
    }
    if (!job) {
      void this.disable(source, why!);
      return;
    }
    this.registry.addCronJob(name, job as never);
    job.start();
    if (source.scheduleError) void this.repo.setScheduleError(id, null).catch(() => undefined);
    this.log.log(
      `source ${source.name}: scheduled "${source.schedule.cron}"${source.schedule.timezone ? ` (${source.schedule.timezone})` : ''}`,
    );
  }

  private async disable(source: SourceRecord, why: string): Promise<void> {
    this.log.error(
      `source ${source.name}: its schedule is disabled: ${why}; change the source's schedule to arm it again`,
    );
    if (source.scheduleError === why) return;
    await this.repo
      .setScheduleError(source.id, why)
      .catch((e) => this.log.warn(`recording the schedule error of ${source.name}: ${(e as Error).message}`));
  }

  /** One tick: claim it, then queue a run per new inbox file (or for location.path). */
  async tick(sourceId: string, scheduledAt: Date): Promise<string[]> {
    if (!(await this.repo.claimTick(sourceId, scheduledAt, this.instance))) return [];
    const runIds: string[] = [];
    try {
      const source = await this.sources.entity(sourceId);
      if (!source.schedule) {
        this.register(source, sourceId);
        return [];
      }
      if (source.location.inbox) {
        const dir = resolveInRoot(this.cfg.ingestRoot, source.location.inbox, 'dir');
        const re = globToRegExp(source.location.pattern ?? '*');
        const files = fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isFile() && re.test(d.name))
          .map((d) => d.name)
          .sort();
        for (const name of files) {
          const file = resolveInRoot(this.cfg.ingestRoot, path.join(source.location.inbox, name));
          const { checksum } = await fileChecksum(file);
          if (await this.repo.inboxFileSeen(sourceId, checksum)) continue;
          const { run } = await this.runs.trigger(sourceId, {
            trigger: 'schedule',
            trustedPath: file,
            createdBy: `schedule:${this.instance}`,
          });
          await this.repo.recordInboxFile(sourceId, checksum, path.relative(this.cfg.ingestRoot, file), run.id);
          runIds.push(run.id);
        }
      } else if (source.location.path) {
        const { run, created } = await this.runs.trigger(sourceId, {
          trigger: 'schedule',
          createdBy: `schedule:${this.instance}`,
        });
        if (created) runIds.push(run.id);
      }
      if (runIds.length)
        this.log.log(`source ${source.name}: tick ${scheduledAt.toISOString()} queued ${runIds.length} run(s)`);
    } catch (e) {
      this.log.warn(`source ${sourceId}: tick ${scheduledAt.toISOString()} failed: ${(e as Error).message}`);
    }
    await this.repo.recordTickRuns(sourceId, scheduledAt, runIds);
    return runIds;
  }
}
