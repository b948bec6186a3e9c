import type { PoolClient } from 'pg';
import type { Warehouse } from '@weir/platform';
import { ColumnContract, DatasetContract, isViolation } from '@weir/catalog';
import type { QualityGate, QualityGateResult } from '@weir/quality';
import type { DriftPolicy, RowCounts, SourceFormat, SourceOptions, StrategySpec } from '../../domain/source';
import type { ReaderBatch } from '../readers/record.types';
import { LoadRun } from './load-run.engine';
export { LoadFailedError } from '../../ingestion.errors';

/** Everything the engine needs to load one input. */
export interface LoadJob {
  runId: string;
  sourceName: string;
  dataset: { name: string; schema: string; table: string; contract: DatasetContract };
  format: SourceFormat;
  strategy: StrategySpec;
  drift: DriftPolicy;
  options: SourceOptions;
  maxRejectedRatio: number;
  watermark: string | null;
  /**
   * An incremental query source filtered past the watermark itself (nothing is skipped here);
   * with a tie-breaker, the watermark is `{"cursor", "tieBreaker"}` of the last row (domain/connector.ts).
   */
  pushdown?: { tieBreaker?: string };
  /** A source keeping its own checkpoint (a tap's STATE): the watermark after the load is this, not a cursor's. */
  checkpoint?: () => string | null;
  /** The records, batch by batch (CSV batches carry the header first). */
  batches: AsyncIterable<ReaderBatch>;
  /** Adds nullable text columns to the dataset (drift policy evolve); returns the new contract. */
  evolve: (columns: ColumnContract[]) => Promise<DatasetContract>;
  qualityGate: QualityGate;
  /** Called every few seconds with the rows read so far. */
  onProgress?: (p: { rowsRead: number; rowsRejected: number }) => void;
  /**
   * Called inside the publish transaction, after the data is merged and before COMMIT: the
   * caller records the run (and the watermark) in the same transaction.
   */
  recordPublish: (client: PoolClient, result: LoadResult) => Promise<void>;
}

export interface LoadResult extends RowCounts {
  /** Milliseconds per phase: stream (read, validate, COPY), settle (keys, duplicates, watermark, gate), publish. */
  phases: { stream: number; settle: number; publish: number };
  columnsDiscarded: Record<string, number>;
  watermarkAfter: string | null;
  quality: QualityGateResult;
}

/**
 * Write–audit–publish for one input: validate every record against the compiled contract,
 * COPY good rows into a staging table and bad ones into dead letters, settle duplicates and
 * the watermark in SQL, ask the quality gate, then publish in one transaction with the run record.
 * Any failure before COMMIT leaves the target untouched. Each load is a {@link LoadRun}.
 */
export class LoadEngine {
  constructor(private readonly warehouse: Warehouse) {}

  run(job: LoadJob): Promise<LoadResult> {
    return new LoadRun(this.warehouse, job).execute();
  }
}

export { isViolation };
