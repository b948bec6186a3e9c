import type { PipelineSpec } from '../../domain/pipeline';

/** Inject with `@Inject(PIPELINE_STORE)`: pipelines and every version of them (internal to orchestration). */
export const PIPELINE_STORE = Symbol('PIPELINE_STORE');

/** A pipeline at its current version. */
export interface PipelineRecord {
  id: string;
  name: string;
  version: number;
  spec: PipelineSpec;
  /** What keeps it (`ingestion:source:<id>`), or null for pipelines people define. */
  managedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Pipelines by id or name. Saving a changed definition makes a new version; every version is kept
 * (`versions`), and a run records the version it ran.
 */
export interface PipelineStore {
  findById(id: string): Promise<PipelineRecord | null>;
  findByName(name: string): Promise<PipelineRecord | null>;
  list(): Promise<PipelineRecord[]>;
  /** The pipeline kept by `managedBy`. */
  findManaged(managedBy: string): Promise<PipelineRecord | null>;
  /** Version 1 of a new pipeline; null when the name (or `managedBy`) is taken. */
  create(spec: PipelineSpec, by: string | null, managedBy?: string | null): Promise<PipelineRecord | null>;
  /** A new version when the spec differs from the current one (else the record as it is). */
  update(id: string, spec: PipelineSpec, by: string | null): Promise<PipelineRecord>;
  /** A version of the pipeline, or null. */
  version(id: string, version: number): Promise<PipelineSpec | null>;
  versions(id: string): Promise<{ version: number; createdAt: Date; createdBy: string | null }[]>;
  remove(id: string): Promise<void>;
}
