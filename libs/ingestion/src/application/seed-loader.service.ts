import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CATALOG, CatalogPort, DatasetContract } from '@weir/catalog';
import { InferService } from './infer.service';
import { RunsService } from './runs.service';
import { SourcesService } from './sources.service';
import type { SeedLoad, SeedLoaded, SeedLoaderPort } from './ports/seed-loader.port';

/** The ingestion source of a seed: `seed_<project>_<seed>`, or a prefix and a hash of it past 63 characters. */
export function seedSourceName(project: string, seed: string): string {
  const full = `seed_${project}_${seed}`.toLowerCase();
  if (full.length <= 63) return full;
  return `${full.slice(0, 50)}_${createHash('sha256').update(full).digest('hex').slice(0, 12)}`;
}

/** SEED_LOADER: a seed is a CSV source of its project, loaded with replace in one accounted run. */
@Injectable()
export class SeedLoaderService implements SeedLoaderPort {
  constructor(
    private readonly infer: InferService,
    private readonly sources: SourcesService,
    private readonly runs: RunsService,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
  ) {}

  async forget(managedBy: string): Promise<string[]> {
    const kept = (await this.sources.list()).filter((s) => s.managedBy === managedBy);
    for (const s of kept) await this.sources.remove(s.id, false);
    return kept.map((s) => s.name);
  }

  async load(seed: SeedLoad): Promise<SeedLoaded> {
    const { delimiter } = seed;
    const inferred = await this.infer.infer(seed.file, {
      format: 'csv',
      rows: 1000,
      naming: seed.quoteColumns === false ? 'fold' : 'exact',
      ...(delimiter ? { delimiter } : {}),
    });
    if (inferred.fields.length === 0) return { ok: false, reason: 'no_header', message: 'the seed has no header row' };
    // seeds are data as written: no key is guessed, every column may be null (dbt's seeds too)
    const contract: DatasetContract = { columns: inferred.contract.columns.map((c) => ({ ...c, primaryKey: false })) };
    await this.catalog.ensureDataset(
      {
        name: seed.name,
        schema: seed.schema,
        table: seed.table,
        contract,
        tags: ['seed', `project:${seed.project}`],
        managedBy: seed.managedBy,
      },
      seed.managedBy,
    );
    const mine = await this.sources.findManaged(seed.managedBy, seed.name);
    const source = mine?.name ?? seedSourceName(seed.project, seed.name);
    const settings = {
      format: 'csv' as const,
      strategy: { kind: 'replace' as const },
      drift: 'freeze' as const,
      maxRejectedRatio: 0,
      mapping: inferred.mapping,
      ...(delimiter ? { csv: { delimiter } } : {}),
    };
    if (!mine) await this.sources.create({ name: source, dataset: seed.name, managedBy: seed.managedBy, ...settings });
    else await this.sources.update(source, settings); // the header may have changed since the last build
    const { run } = await this.runs.trigger(source, {
      trigger: 'api',
      trustedPath: seed.file,
      createdBy: seed.managedBy,
    });
    const done = await this.runs.waitFor(run.id, 3_600_000);
    if (done.status !== 'succeeded')
      return {
        ok: false,
        reason: 'run_failed',
        message: `ingestion run ${done.id} ${done.status}: ${done.error?.code} ${done.error?.message ?? ''}`,
        run: done,
        source,
      };
    return {
      ok: true,
      run: done,
      source,
      renamedColumns: Object.entries(inferred.mapping).map(([col, m]) => `${m.from} → ${col}`),
    };
  }
}
