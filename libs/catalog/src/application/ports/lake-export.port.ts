import type { ExportCodec, ExportColumn, ExportS3Options, ExportTarget } from '../../domain/lake-export';

/** One exported partition of a dataset to a target (catalog.exports). */
export interface ExportedPartition {
  /** `order_date=2026-11-21` (empty when the export is not partitioned). */
  partition: string;
  values: Record<string, string | null>;
  rows: number;
  files: ExportedFile[];
  datasetVersion: number;
  exportedAt: Date;
}

export interface ExportedFile {
  /** Relative to the target. */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** PII columns written masked in this file (absent: none). */
  masked?: string[];
}

/**
 * The record of what was exported where (token {@link EXPORT_RECORDS}), so an incremental export
 * writes only partitions not exported before. Adapter: TypeOrmExportRecords.
 */
export interface ExportRecords {
  list(datasetId: string, target: string): Promise<ExportedPartition[]>;
  /** Records the partitions written (replacing earlier records of the same ones); with `replaceAll`, drops every other record of the target. */
  save(datasetId: string, target: string, parts: ExportedPartition[], replaceAll: boolean): Promise<void>;
}
export const EXPORT_RECORDS = Symbol('EXPORT_RECORDS');

/** What an export reads: text values in `columns` order, after the partition columns' text values. */
export interface ExportRead {
  schema: string;
  table: string;
  columns: ExportColumn[];
  partitionBy: string[];
  /** Only these partitions (values in `partitionBy` order); undefined: all rows. */
  only?: (string | null)[][];
  /** Asked for over HTTP: every statement bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS. */
  forRequest?: boolean;
}

/**
 * Reads a dataset's rows for an export (token {@link EXPORT_READER}): read-only, as the reader role
 * wherever reading could run user code (views), streamed (never the whole relation in memory), ordered by the partition columns.
 * `forRequest` (an export asked for over HTTP): a statement past WEIR_REQUEST_STATEMENT_TIMEOUT_MS is
 * cancelled and rejects with `PLATFORM.STATEMENT_TIMEOUT`.
 * Each row: the partition columns' text values, then the columns' values as text (date: days since
 * 1970-01-01, timestamps: microseconds since the epoch, the rest PostgreSQL's text form).
 */
export interface ExportReader {
  partitionValues(
    schema: string,
    table: string,
    partitionBy: string[],
    opts?: { forRequest?: boolean },
  ): Promise<(string | null)[][]>;
  rows(read: ExportRead): AsyncIterable<(string | null)[][]>;
}
export const EXPORT_READER = Symbol('EXPORT_READER');

export interface ParquetFileOptions {
  columns: ExportColumn[];
  compression: ExportCodec;
  rowGroupSize: number;
  kv: Record<string, string>;
}

/** A Parquet file being written: rows in, size and checksum out. */
export interface ParquetFileSink {
  /** Rows `from` to `to` (exclusive) of a batch, each row's values starting at field `skip` (after the partition values). */
  append(rows: (string | null)[][], from: number, to: number, skip: number): Promise<void>;
  close(): Promise<ExportedFile>;
}

/** A folder or bucket prefix the files go to. */
export interface LakeTarget {
  /** Removes a partition's earlier files (a rewrite). */
  clear(relDir: string): Promise<void>;
  open(relPath: string, options: ParquetFileOptions): Promise<ParquetFileSink>;
  writeText(relPath: string, text: string): Promise<void>;
}

/** Opens targets (token {@link LAKE_TARGETS}); refuses a codec the runtime lacks (a message). */
export interface LakeTargets {
  /** Why `codec` cannot be written here, or undefined (and the codec is then ready to write). */
  codecProblem(codec: ExportCodec): Promise<string | undefined>;
  open(target: ExportTarget, s3?: ExportS3Options): Promise<LakeTarget>;
}
export const LAKE_TARGETS = Symbol('LAKE_TARGETS');
