import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Dependent } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import { SourcesService } from '@weir/ingestion';
import { QUALITY_SUITES, QualitySuites } from '@weir/quality';
import type { PipelineSpec, Step } from '../domain/pipeline';
import { PIPELINE_STORE, PipelineRecord, PipelineStore } from './ports/pipeline-store.port';

/** The keeper key of a source's schedule pipeline (see SourceSchedulesService). */
const sourceKeeper = (sourceId: string) => `ingestion:source:${sourceId}`;

/**
 * What pipelines use, told to the slices that own it: before a dataset, source, suite or project
 * is deleted, the current version of every pipeline (not deleted) is searched for the steps and
 * schedules that name it; each is a dependent that refuses the deletion (409 `…_IN_USE`). A source's
 * own schedule pipeline is no dependent of it (it goes with the source).
 */
@Injectable()
export class PipelineDependentsService implements OnModuleInit {
  constructor(
    @Inject(PIPELINE_STORE) private readonly store: PipelineStore,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    private readonly sources: SourcesService,
    @Inject(QUALITY_SUITES) private readonly suites: QualitySuites,
  ) {}

  onModuleInit(): void {
    this.catalog.addDependentsProbe((d) => this.ofDataset(d.name));
    this.sources.addDependentsProbe((s) =>
      this.steps(
        (st) => (st.kind === 'ingest' && (st.source === s.name || st.source === s.id) ? 'ingests it' : null),
        (p) => p.managedBy !== sourceKeeper(s.id),
      ),
    );
    this.suites.addDependentsProbe((s) =>
      this.steps((st) => (st.kind === 'check' && (st.suite === s.name || st.suite === s.id) ? 'runs it' : null)),
    );
  }

  /** Pipelines whose `build` steps build the project. */
  ofProject(project: { id: string; name: string }): Promise<Dependent[]> {
    return this.steps((st) =>
      st.kind === 'build' && (st.project === project.name || st.project === project.id) ? 'builds it' : null,
    );
  }

  /** Pipelines waiting for, exporting or scheduled on the dataset. */
  async ofDataset(dataset: string): Promise<Dependent[]> {
    const out = await this.steps((st) =>
      st.kind === 'wait_for' && st.dataset === dataset
        ? 'waits for it'
        : st.kind === 'export' && st.dataset === dataset
          ? 'exports it'
          : null,
    );
    for (const p of await this.store.list())
      if (p.spec.schedule?.datasets?.includes(dataset))
        out.push({ kind: 'pipeline', name: p.name, detail: 'its schedule runs it when the dataset is updated' });
    return out;
  }

  /** One dependent per step `uses` describes (its words), in pipelines `include` keeps. */
  private async steps(
    uses: (step: Step, spec: PipelineSpec) => string | null,
    include: (p: PipelineRecord) => boolean = () => true,
  ): Promise<Dependent[]> {
    const out: Dependent[] = [];
    for (const p of await this.store.list()) {
      if (!include(p)) continue;
      for (const st of p.spec.steps) {
        const how = uses(st, p.spec);
        if (how) out.push({ kind: 'pipeline', name: p.name, detail: `step "${st.id}" ${how}` });
      }
    }
    return out;
  }
}
