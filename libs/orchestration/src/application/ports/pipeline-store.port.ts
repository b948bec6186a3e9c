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
  /** By id; a deleted pipeline only `withDeleted` (the history of its runs reads it). */
  findById(id: string, withDeleted?: boolean): Promise<PipelineRecord | null>;
  /** The pipeline (not deleted) of that name. */
  findByName(name: string): Promise<PipelineRecord | null>;
  /** By name; the deleted ones too with `withDeleted`. */
  list(withDeleted?: boolean): Promise<PipelineRecord[]>;
  /** The pipeline kept by `managedBy`. */
  findManaged(managedBy: string): Promise<PipelineRecord | null>;
  /** Version 1 of a new pipeline; null when the name (or `managedBy`) is taken. */
  create(spec: PipelineSpec, by: string | null, managedBy?: string | null): Promise<PipelineRecord | null>;
  /** A new version when the spec differs from the current one (else the record as it is). */
  update(id: string, spec: PipelineSpec, by: string | null): Promise<PipelineRecord>;
  /** A version of the pipeline, or null. */
  version(id: string, version: number): Promise<PipelineSpec | null>;
  versions(id: string): Promise<{ version: number; createdAt: Date; createdBy: string | null }[]>;
  /** Deletes the pipeline softly: its versions, runs and ticks stay; its name and keeper are free again. */
  remove(id: string): Promise<void>;
}
