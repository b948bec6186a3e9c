import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { isUuid } from '@weir/platform';
import type { BackfillRecord, BackfillStatus, BackfillStore } from '../application/ports/backfill-store.port';
import { BackfillOrmEntity } from './backfill.orm-entity';

const record = (e: BackfillOrmEntity): BackfillRecord => ({ ...e, status: e.status as BackfillStatus });

/** Backfills in PostgreSQL (orchestration.backfills). */
@Injectable()
export class PgBackfillStore implements BackfillStore {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private get repo() {
    return this.ds.getRepository(BackfillOrmEntity);
  }

  async create(b: {
    pipelineId: string;
    partitions: string[];
    maxParallel: number;
    createdBy: string | null;
  }): Promise<BackfillRecord> {
    const saved = await this.repo.save(this.repo.create({ ...b, nextIndex: 0, status: 'running' }));
    return record(await this.repo.findOneByOrFail({ id: saved.id }));
  }

  async find(id: string): Promise<BackfillRecord | null> {
    if (!isUuid(id)) return null;
    const e = await this.repo.findOneBy({ id });
    return e ? record(e) : null;
  }

  async list(pipelineId: string): Promise<BackfillRecord[]> {
    return (await this.repo.find({ where: { pipelineId }, order: { createdAt: 'DESC' } })).map(record);
  }

  async running(): Promise<BackfillRecord[]> {
    return (await this.repo.find({ where: { status: 'running' }, order: { createdAt: 'ASC' } })).map(record);
  }

  async setStatus(id: string, status: BackfillStatus, from: BackfillStatus[]): Promise<boolean> {
    const done = status === 'running' || status === 'paused' ? null : new Date();
    const r = await this.repo.update({ id, status: In(from) }, { status, finishedAt: done });
    return (r.affected ?? 0) > 0;
  }

  async advance(
    id: string,
    step: (b: BackfillRecord) => Promise<{ started: number; end?: 'succeeded' | 'failed' }>,
  ): Promise<void> {
    await this.ds.transaction(async (em) => {
      // another advance holds it (possibly this very call's caller, through a run it started): skip, the next pass goes on
      const e = await em.findOne(BackfillOrmEntity, {
        where: { id },
        lock: { mode: 'pessimistic_write', onLocked: 'skip_locked' },
      });
      if (!e || e.status !== 'running') return;
      const r = await step(record(e));
      await em.update(
        BackfillOrmEntity,
        { id },
        {
          nextIndex: e.nextIndex + r.started,
          ...(r.end ? { status: r.end, finishedAt: new Date() } : {}),
        },
      );
    });
  }
}
