import type { Expectation } from '../../domain/expectations';

/** A stored suite, as the application sees it. */
export interface SuiteRecord {
  id: string;
  name: string;
  dataset: string;
  expectations: Expectation[];
  meta: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewSuite = Pick<SuiteRecord, 'name' | 'dataset' | 'expectations' | 'meta'>;

/**
 * Storage port for quality suites (quality.suites). Adapters: TypeOrmSuiteStore (PostgreSQL) and
 * InMemorySuiteStore; both pass the contract suite in libs/quality/test/suite-store.contract.spec.ts.
 */
export interface SuiteStore {
  /** Inserts a suite; a name already taken throws {@link SuiteNameTakenError}. */
  insert(suite: NewSuite): Promise<SuiteRecord>;
  /** Replaces a suite's content (its id and createdAt stay); undefined when there is no such suite. */
  update(id: string, suite: NewSuite): Promise<SuiteRecord | undefined>;
  findById(id: string): Promise<SuiteRecord | undefined>;
  findByName(name: string): Promise<SuiteRecord | undefined>;
  /** The suites of a dataset (or all), by name. */
  list(dataset?: string): Promise<SuiteRecord[]>;
  countFor(dataset: string): Promise<number>;
  /** Deletes the suite softly: no read above finds it again; its runs stay. */
  remove(id: string): Promise<void>;
}

export const SUITE_STORE = Symbol('SUITE_STORE');

/** The store's own refusal of a second suite with a name (the service turns it into QUALITY.SUITE_EXISTS). */
export class SuiteNameTakenError extends Error {
  constructor(readonly suiteName: string) {
    super(`A suite named "${suiteName}" already exists`);
  }
}
