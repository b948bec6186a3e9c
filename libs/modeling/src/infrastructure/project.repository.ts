import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ProjectRecord, ProjectRepository } from '../application/ports/project-repository.port';
import { ProjectOrmEntity } from './project.orm-entity';

/** Registered projects in PostgreSQL (modeling.projects). */
@Injectable()
export class PgProjectRepository implements ProjectRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private get repo() {
    return this.ds.getRepository(ProjectOrmEntity);
  }

  findById(id: string, withDeleted = false): Promise<ProjectRecord | null> {
    return this.repo.findOne({ where: { id }, withDeleted });
  }

  findByName(name: string): Promise<ProjectRecord | null> {
    return this.repo.findOne({ where: { name } });
  }

  list(): Promise<ProjectRecord[]> {
    return this.repo.find({ order: { name: 'ASC' } });
  }

  async remove(id: string): Promise<void> {
    await this.repo.softDelete({ id });
  }

  async upsert(p: { name: string; rootPath: string; modelSchema: string }): Promise<ProjectRecord> {
    const e = (await this.findByName(p.name)) ?? this.repo.create();
    return this.repo.save(Object.assign(e, p, { updatedAt: new Date() }));
  }
}
