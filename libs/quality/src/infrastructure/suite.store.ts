import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { NewSuite, SuiteNameTakenError, SuiteRecord, SuiteStore } from '../application/ports/suite-store.port';
import { SuiteOrmEntity } from './suite.orm-entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const record = (e: SuiteOrmEntity): SuiteRecord => ({
  id: e.id,
  name: e.name,
  dataset: e.dataset,
  expectations: e.expectations,
  meta: e.meta,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

/** quality.suites through TypeORM. */
export class TypeOrmSuiteStore implements SuiteStore {
  constructor(private readonly repo: Repository<SuiteOrmEntity>) {}

  async insert(suite: NewSuite): Promise<SuiteRecord> {
    try {
      const saved = await this.repo.save(this.repo.create({ ...suite }));
      return record(await this.repo.findOneByOrFail({ id: saved.id }));
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new SuiteNameTakenError(suite.name);
      throw e;
    }
  }

  async update(id: string, suite: NewSuite): Promise<SuiteRecord | undefined> {
    const e = await this.findEntity(id);
    if (!e) return undefined;
    try {
      await this.repo.save(Object.assign(e, suite, { updatedAt: new Date() }));
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new SuiteNameTakenError(suite.name);
      throw err;
    }
    return record(e);
  }

  async findById(id: string): Promise<SuiteRecord | undefined> {
    const e = await this.findEntity(id);
    return e ? record(e) : undefined;
  }

  async findByName(name: string): Promise<SuiteRecord | undefined> {
    const e = await this.repo.findOne({ where: { name } });
    return e ? record(e) : undefined;
  }

  async list(dataset?: string): Promise<SuiteRecord[]> {
    return (await this.repo.find({ where: dataset ? { dataset } : {}, order: { name: 'ASC' } })).map(record);
  }

  countFor(dataset: string): Promise<number> {
    return this.repo.count({ where: { dataset } });
  }

  async remove(id: string): Promise<void> {
    if (UUID.test(id)) await this.repo.softDelete({ id });
  }

  private async findEntity(id: string): Promise<SuiteOrmEntity | null> {
    return UUID.test(id) ? this.repo.findOne({ where: { id } }) : null;
  }
}

/** A deep copy (JSON content, fresh dates): what a stored row would give. */
const copy = (r: SuiteRecord): SuiteRecord => ({
  ...r,
  expectations: JSON.parse(JSON.stringify(r.expectations)),
  meta: r.meta === null ? null : JSON.parse(JSON.stringify(r.meta)),
  createdAt: new Date(r.createdAt),
  updatedAt: new Date(r.updatedAt),
});

/** Suites in memory: for use cases unit-tested without a database. */
export class InMemorySuiteStore implements SuiteStore {
  private readonly rows = new Map<string, SuiteRecord>();

  async insert(suite: NewSuite): Promise<SuiteRecord> {
    if ([...this.rows.values()].some((r) => r.name === suite.name)) throw new SuiteNameTakenError(suite.name);
    const now = new Date();
    const r = copy({ id: randomUUID(), ...suite, createdAt: now, updatedAt: now });
    this.rows.set(r.id, r);
    return copy(r);
  }

  async update(id: string, suite: NewSuite): Promise<SuiteRecord | undefined> {
    const r = this.rows.get(id);
    if (!r) return undefined;
    if ([...this.rows.values()].some((x) => x.name === suite.name && x.id !== id))
      throw new SuiteNameTakenError(suite.name);
    Object.assign(r, copy({ ...r, ...suite }), { updatedAt: new Date() });
    return copy(r);
  }

  async findById(id: string): Promise<SuiteRecord | undefined> {
    const r = this.rows.get(id);
    return r ? copy(r) : undefined;
  }

  async findByName(name: string): Promise<SuiteRecord | undefined> {
    const r = [...this.rows.values()].find((x) => x.name === name);
    return r ? copy(r) : undefined;
  }

  async list(dataset?: string): Promise<SuiteRecord[]> {
    return [...this.rows.values()]
      .filter((r) => dataset === undefined || r.dataset === dataset)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((r) => copy(r));
  }

  async countFor(dataset: string): Promise<number> {
    return [...this.rows.values()].filter((r) => r.dataset === dataset).length;
  }

  async remove(id: string): Promise<void> {
    this.rows.delete(id);
  }
}
