import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CronJob } from 'cron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import { SourceOrmEntity } from '../infrastructure/source.orm-entity';
import { fileChecksum, resolveInRoot } from '../infrastructure/input';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { scheduleProblem } from './schedule-check';
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
    @InjectDataSource() private readonly ds: DataSource,
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
    const all = await this.ds.getRepository(SourceOrmEntity).find();
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
  register(source: SourceOrmEntity | null, id: string): void {
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
    if (source.scheduleError)
      void this.ds
        .query(`UPDATE ingestion.sources SET schedule_error = NULL WHERE id = $1`, [id])
        .catch(() => undefined);
    this.log.log(
      `source ${source.name}: scheduled "${source.schedule.cron}"${source.schedule.timezone ? ` (${source.schedule.timezone})` : ''}`,
    );
  }

  private async disable(source: SourceOrmEntity, why: string): Promise<void> {
    this.log.error(
      `source ${source.name}: its schedule is disabled: ${why}; change the source's schedule to arm it again`,
    );
    if (source.scheduleError === why) return;
    await this.ds
      .query(`UPDATE ingestion.sources SET schedule_error = $2 WHERE id = $1`, [source.id, why])
      .catch((e) => this.log.warn(`recording the schedule error of ${source.name}: ${(e as Error).message}`));
  }

  /** One tick: claim it, then queue a run per new inbox file (or for location.path). */
  async tick(sourceId: string, scheduledAt: Date): Promise<string[]> {
    const claimed = await this.ds.query(
      `INSERT INTO ingestion.schedule_ticks (source_id, scheduled_at, claimed_by, run_ids) VALUES ($1, $2, $3, '[]') ON CONFLICT DO NOTHING RETURNING source_id`,
      [sourceId, scheduledAt, this.instance],
    );
    if (claimed.length === 0) return [];
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
          const seen = await this.ds.query(
            `SELECT 1 FROM ingestion.inbox_files WHERE source_id = $1 AND checksum = $2`,
            [sourceId, checksum],
          );
          if (seen.length) continue;
          const { run } = await this.runs.trigger(sourceId, {
            trigger: 'schedule',
            trustedPath: file,
            createdBy: `schedule:${this.instance}`,
          });
          await this.ds.query(
            `INSERT INTO ingestion.inbox_files (source_id, checksum, path, run_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
            [sourceId, checksum, path.relative(this.cfg.ingestRoot, file), run.id],
          );
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
    await this.ds.query(`UPDATE ingestion.schedule_ticks SET run_ids = $3 WHERE source_id = $1 AND scheduled_at = $2`, [
      sourceId,
      scheduledAt,
      JSON.stringify(runIds),
    ]);
    return runIds;
  }
}
