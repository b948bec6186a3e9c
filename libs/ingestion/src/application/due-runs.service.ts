import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SOURCE_REPOSITORY, SourceRepository } from './ports/source-repository.port';
import type { StartDueRuns } from './ports/ingestion-runs.port';
import { fileChecksum, resolveInRoot } from '../infrastructure/input-file.util';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { NoInputError } from '../ingestion.errors';
import { readsAfresh } from '../domain/connector';
import { TriggerRunService } from './trigger-run.service';
import { SourcesService } from './sources.service';
import type { RunView } from './run.views';

/** `*.csv`, `orders-??.csv.gz` → a RegExp on file names. */
export function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

/**
 * start-due-runs: what a scheduled load of a source runs (its schedule is a one-step pipeline of
 * the orchestration slice): a run per inbox file not loaded before (`location.inbox` and its
 * `pattern`; each file once, by checksum, in name order), or one run of `location.path` (the same
 * bytes answer with the same run).
 */
@Injectable()
export class DueRunsService {
  private readonly log = new Logger('ingestion');

  constructor(
    @Inject(SOURCE_REPOSITORY) private readonly repo: SourceRepository,
    private readonly sources: SourcesService,
    private readonly triggers: TriggerRunService,
    @Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig,
  ) {}

  async startDue(req: StartDueRuns): Promise<{ runs: RunView[]; created: number }> {
    const source = await this.sources.entity(req.source);
    const base = {
      trigger: req.trigger ?? 'pipeline',
      createdBy: req.createdBy,
      parent: req.parent,
      partition: req.partition,
    } as const;
    if (readsAfresh(source.connector)) {
      // a database source: one run reading past its watermark (the pipeline's key makes a retry the same run)
      const { run, created } = await this.triggers.trigger(source.id, { ...base, idempotencyKey: req.idempotencyKey });
      return { runs: [run], created: created ? 1 : 0 };
    }
    if (source.location.inbox) {
      const dir = resolveInRoot(this.cfg.ingestRoot, source.location.inbox, 'dir');
      const re = globToRegExp(source.location.pattern ?? '*');
      const names = fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isFile() && re.test(d.name))
        .map((d) => d.name)
        .sort();
      const runs: RunView[] = [];
      for (const name of names) {
        const file = resolveInRoot(this.cfg.ingestRoot, path.join(source.location.inbox, name));
        const { checksum } = await fileChecksum(file);
        if (await this.repo.inboxFileSeen(source.id, checksum)) continue;
        const { run } = await this.triggers.trigger(source.id, { ...base, trustedPath: file });
        await this.repo.recordInboxFile(source.id, checksum, path.relative(this.cfg.ingestRoot, file), run.id);
        runs.push(run);
      }
      if (runs.length) this.log.log(`source ${source.name}: ${runs.length} new inbox file(s) queued`);
      return { runs, created: runs.length };
    }
    if (!source.location.path)
      throw new NoInputError(`Source "${source.name}" has neither location.inbox nor location.path to load`);
    const { run, created } = await this.triggers.trigger(source.id, { ...base, idempotencyKey: req.idempotencyKey });
    return { runs: [run], created: created ? 1 : 0 };
  }
}
