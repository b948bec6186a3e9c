import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid } from '@weir/platform';
import { isDeepStrictEqual } from 'node:util';
import type { PipelineSpec } from '../domain/pipeline';
import type { PipelineRecord, PipelineStore } from '../application/ports/pipeline-store.port';
import { PipelineOrmEntity } from './pipeline.orm-entity';
import { PipelineVersionOrmEntity } from './pipeline-version.orm-entity';

/** Pipeline versions kept in memory (oldest read dropped first). */
const VERSION_CACHE_SIZE = 2000;

/** Pipelines in PostgreSQL (orchestration.pipelines, pipeline_versions). */
@Injectable()
export class PgPipelineStore implements PipelineStore {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  findById(id: string, withDeleted = false): Promise<PipelineRecord | null> {
    return isUuid(id)
      ? this.ds.getRepository(PipelineOrmEntity).findOne({ where: { id }, withDeleted })
      : Promise.resolve(null);
  }

  findByName(name: string): Promise<PipelineRecord | null> {
    return this.ds.getRepository(PipelineOrmEntity).findOneBy({ name });
  }

  list(withDeleted = false): Promise<PipelineRecord[]> {
    return this.ds.getRepository(PipelineOrmEntity).find({ order: { name: 'ASC' }, withDeleted });
  }

  findManaged(managedBy: string): Promise<PipelineRecord | null> {
    return this.ds.getRepository(PipelineOrmEntity).findOneBy({ managedBy });
  }

  async create(spec: PipelineSpec, by: string | null, managedBy: string | null = null): Promise<PipelineRecord | null> {
    return this.ds.transaction(async (em) => {
      const rows = (await em.query(
        `INSERT INTO orchestration.pipelines (name, version, spec, managed_by) VALUES ($1, 1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING id`,
        [spec.name, JSON.stringify(spec), managedBy],
      )) as { id: string }[];
      if (!rows.length) return null;
      await em.insert(PipelineVersionOrmEntity, { pipelineId: rows[0].id, version: 1, spec, createdBy: by });
      return em.findOneByOrFail(PipelineOrmEntity, { id: rows[0].id });
    });
  }

  async update(id: string, spec: PipelineSpec, by: string | null): Promise<PipelineRecord> {
    return this.ds.transaction(async (em) => {
      const p = await em.findOneOrFail(PipelineOrmEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (isDeepStrictEqual(p.spec, spec)) return p;
      const version = p.version + 1;
      await em.insert(PipelineVersionOrmEntity, { pipelineId: id, version, spec, createdBy: by });
      await em.update(PipelineOrmEntity, { id }, { version, spec, updatedAt: new Date() });
      return em.findOneByOrFail(PipelineOrmEntity, { id });
    });
  }

  /** A version never changes once written: read once per process (every step attempt and plan needs its spec). */
  private readonly versionCache = new Map<string, PipelineSpec>();

  async version(id: string, version: number): Promise<PipelineSpec | null> {
    const key = `${id}:${version}`;
    const hit = this.versionCache.get(key);
    if (hit) return hit;
    const v = await this.ds.getRepository(PipelineVersionOrmEntity).findOneBy({ pipelineId: id, version });
    if (!v) return null;
    if (this.versionCache.size >= VERSION_CACHE_SIZE) this.versionCache.delete(this.versionCache.keys().next().value!);
    this.versionCache.set(key, v.spec);
    return v.spec;
  }

  async versions(id: string): Promise<{ version: number; createdAt: Date; createdBy: string | null }[]> {
    const vs = await this.ds
      .getRepository(PipelineVersionOrmEntity)
      .find({ where: { pipelineId: id }, order: { version: 'DESC' } });
    return vs.map((v) => ({ version: v.version, createdAt: v.createdAt, createdBy: v.createdBy }));
  }

  async remove(id: string): Promise<void> {
    // soft: the versions stay (its runs name the version they ran), and so do the cached ones
    await this.ds.getRepository(PipelineOrmEntity).softDelete({ id });
  }
}
