import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { SEED_LOADER, SeedLoaderPort } from '@weir/ingestion';
import type { CompiledNode } from '../../domain/compile';
import type { Project } from '../../domain/project';
import type { ProjectOrmEntity } from '../project.orm-entity';
import { BadConfigError, SeedFailedError } from '../../modeling.errors';
import type { StepPatch } from '../../application/modeling.views';
import type { Materializer, StepContext } from '../../application/ports/materializer.port';

/** `seed`: a CSV of the project loaded through ingestion (SEED_LOADER), accounted like any load. */
@Injectable()
export class SeedMaterializer implements Materializer {
  constructor(@Inject(SEED_LOADER) private readonly seeds: SeedLoaderPort) {}

  materialize(ctx: StepContext): Promise<StepPatch> {
    return this.seed(ctx.entity, ctx.project, ctx.node);
  }

  /**
   * Seeds load through ingestion (file source, replace): contracts, dead letters and accounting
   * included. The contract is inferred by ingestion's own reader (BOM, quoting and gzip read as the
   * load reads them); column names follow dbt-postgres: the header as written (`quote_columns`
   * true, the default), or folded to lower case (`quote_columns: false`). The seed's source is the
   * project's (managed_by), named `seed_<project>_<seed>` or, when that is over 63 characters, a
   * prefix and a stable hash of the full name, so no two seeds share one.
   */
  private async seed(p: ProjectOrmEntity, project: Project, n: CompiledNode): Promise<StepPatch> {
    const quote = n.config['quote_columns'];
    if (quote !== undefined && typeof quote !== 'boolean')
      throw new BadConfigError(`${n.path}: quote_columns must be true or false`);
    const delimiter = n.config['delimiter'] === undefined ? undefined : String(n.config['delimiter']);
    const r = await this.seeds.load({
      name: n.name,
      project: p.name,
      file: path.join(project.root, n.path!),
      schema: n.schema,
      table: n.table,
      managedBy: `modeling:${p.name}`,
      ...(quote !== undefined ? { quoteColumns: quote } : {}),
      ...(delimiter ? { delimiter } : {}),
    });
    if (!r.ok)
      throw new SeedFailedError(r.reason === 'no_header' ? `${n.path}: ${r.message}` : `seed ${n.name}: ${r.message}`);
    return {
      rowsAffected: String(r.run.rowsLoaded),
      refs: {
        ingestionRun: r.run.id,
        source: r.source,
        ...(r.renamedColumns.length ? { renamedColumns: r.renamedColumns } : {}),
      },
    };
  }
}
