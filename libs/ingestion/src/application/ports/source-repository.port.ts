import type { SourceOrmEntity } from '../../infrastructure/source.orm-entity';

/** Inject with `@Inject(SOURCE_REPOSITORY)`: ingestion's sources, schedule ticks and inbox files (internal). */
export const SOURCE_REPOSITORY = Symbol('SOURCE_REPOSITORY');

/** A source as stored (ingestion.sources). */
export type SourceRecord = SourceOrmEntity;
/** The fields a new source is created with. */
export type NewSource = Omit<SourceRecord, 'id' | 'createdAt' | 'updatedAt' | 'scheduleError' | 'deletedAt'>;

/**
 * Sources by id or name, their schedule state, and the ticks and inbox files of their schedules.
 * A tick is claimed once across instances; an inbox file (by checksum) is run once per source.
 */
export interface SourceRepository {
  /** By id; a deleted source only `withDeleted` (its runs' history reads it). */
  findById(id: string, withDeleted?: boolean): Promise<SourceRecord | null>;
  /** The source (not deleted) of that name. */
  findByName(name: string): Promise<SourceRecord | null>;
  /** The source a managing slice keeps for a dataset (a project's seed source). */
  findManaged(managedBy: string, dataset: string): Promise<SourceRecord | null>;
  /** By name. */
  list(): Promise<SourceRecord[]>;
  create(source: NewSource): Promise<SourceRecord>;
  save(source: SourceRecord): Promise<void>;
  /**
   * Deletes the source softly (`deleted_at`: gone from names and lists; its runs, dead letters and
   * inbox record stay) unless a run of it is queued or running: then nothing changes and those runs
   * are returned. Checked under the source's row lock, which new runs take too.
   */
  remove(id: string): Promise<{ going: { id: string; status: string }[] }>;
  setScheduleError(id: string, error: string | null): Promise<void>;
  inboxFileSeen(sourceId: string, checksum: string): Promise<boolean>;
  /** The run that took an inbox file or an object (by its ledger key), its status and error code, or null. */
  inboxFileRun(
    sourceId: string,
    checksum: string,
  ): Promise<{ runId: string; status: string; errorCode: string | null } | null>;
  /** Records the run of an inbox file or object (a later run of it, after a transient failure, replaces it). */
  recordInboxFile(sourceId: string, checksum: string, relativePath: string, runId: string): Promise<void>;
}
