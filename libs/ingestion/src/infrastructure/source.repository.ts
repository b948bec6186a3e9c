import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { NewSource, SourceRecord, SourceRepository } from '../application/ports/source-repository.port';
import { SourceOrmEntity } from './source.orm-entity';

/** Sources in PostgreSQL (ingestion.sources, inbox_files). */
@Injectable()
export class PgSourceRepository implements SourceRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private get repo() {
    return this.ds.getRepository(SourceOrmEntity);
  }

  findById(id: string, withDeleted = false): Promise<SourceRecord | null> {
    return this.repo.findOne({ where: { id }, withDeleted });
  }

  findByName(name: string): Promise<SourceRecord | null> {
    return this.repo.findOne({ where: { name } });
  }

  findManaged(managedBy: string, dataset: string): Promise<SourceRecord | null> {
    return this.repo.findOne({ where: { managedBy, dataset } });
  }

  list(): Promise<SourceRecord[]> {
    return this.repo.find({ order: { name: 'ASC' } });
  }

  async create(source: NewSource): Promise<SourceRecord> {
    const saved = await this.repo.save(this.repo.create(source));
    return this.repo.findOneByOrFail({ id: saved.id });
  }

  async save(source: SourceRecord): Promise<void> {
    await this.repo.save(source);
  }

  async remove(id: string): Promise<{ going: { id: string; status: string }[] }> {
    return this.ds.transaction(async (em) => {
      const live = await em.query(`SELECT id FROM ingestion.sources WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [
        id,
      ]);
      if (!live.length) return { going: [] };
      const going = (await em.query(
        `SELECT id, status FROM ingestion.runs WHERE source_id = $1 AND status IN ('queued', 'running') ORDER BY created_at`,
        [id],
      )) as { id: string; status: string }[];
      if (!going.length)
        await em.query(`UPDATE ingestion.sources SET deleted_at = now(), updated_at = now() WHERE id = $1`, [id]);
      return { going };
    });
  }

  async setScheduleError(id: string, error: string | null): Promise<void> {
    await this.ds.query(`UPDATE ingestion.sources SET schedule_error = $2 WHERE id = $1`, [id, error]);
  }

  async inboxFileSeen(sourceId: string, checksum: string): Promise<boolean> {
    const seen = await this.ds.query(`SELECT 1 FROM ingestion.inbox_files WHERE source_id = $1 AND checksum = $2`, [
      sourceId,
      checksum,
    ]);
    return seen.length > 0;
  }

  async inboxFileRun(
    sourceId: string,
    checksum: string,
  ): Promise<{ runId: string; status: string; errorCode: string | null } | null> {
    const rows = (await this.ds.query(
      `SELECT f.run_id, r.status, r.error_code FROM ingestion.inbox_files f LEFT JOIN ingestion.runs r ON r.id = f.run_id
        WHERE f.source_id = $1 AND f.checksum = $2`,
      [sourceId, checksum],
    )) as { run_id: string; status: string | null; error_code: string | null }[];
    if (!rows.length) return null;
    return { runId: rows[0].run_id, status: rows[0].status ?? 'gone', errorCode: rows[0].error_code };
  }

  async recordInboxFile(sourceId: string, checksum: string, relativePath: string, runId: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO ingestion.inbox_files (source_id, checksum, path, run_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source_id, checksum) DO UPDATE SET run_id = EXCLUDED.run_id, path = EXCLUDED.path, seen_at = now()`,
      [sourceId, checksum, relativePath, runId],
    );
  }
}
