import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { assertDataPlane } from '@weir/platform';
import {
  DEFAULT_MAX_ROWS_PER_FILE,
  DEFAULT_ROW_GROUP_SIZE,
  exportColumn,
  ExportRequest,
  exportRequestProblems,
  MANIFEST_FILE,
  maskedExportColumn,
  partFile,
  partitionPath,
  resolveTarget,
} from '../domain/lake-export';
import { CATALOG_CONFIG, CatalogConfig } from '../catalog.config';
import {
  CodecUnavailableError,
  ExportTargetRefusedError,
  InvalidExportError,
  TableNotFoundError,
} from '../catalog.errors';
import { CatalogService } from './catalog.service';
import {
  EXPORT_READER,
  EXPORT_RECORDS,
  ExportedPartition,
  ExportReader,
  ExportRecords,
  LAKE_TARGETS,
  LakeTargets,
  ParquetFileSink,
} from './ports/lake-export.port';

/** What an export did. */
export interface ExportResult {
  dataset: string;
  datasetVersion: number;
  target: string;
  manifest: string;
  /** Partitions (and their files) written by this export. */
  written: ExportedPartition[];
  rows: number;
  files: number;
  /** Partitions left as they were (an incremental export: exported before). */
  skipped: number;
  /** PII columns whose values were masked in the files written (none for a caller who sees PII). */
  masked: string[];
}

/** Who asks for an export. */
export interface ExportCaller {
  /** Whether PII columns are written in clear (an admin key); else they are masked (see ExportColumn.mask). */
  unmasked: boolean;
  /** Asked for over HTTP: reading the relation is bounded by WEIR_REQUEST_STATEMENT_TIMEOUT_MS. */
  forRequest?: boolean;
}

/**
 * Exports a dataset (or a model's relation) to Parquet files in a local folder under the export
 * root or an S3 prefix: Hive-style partitions, a `_manifest.json` listing every file of the target
 * with rows, bytes and sha256; incremental exports write only partitions not exported before.
 * PII columns are masked unless the caller sees PII (`***` in text columns, NULL in others); a
 * masked export cannot be partitioned by a PII column (its values would be the folder names).
 */
@Injectable()
export class LakeExportService {
  constructor(
    private readonly catalog: CatalogService,
    @Inject(EXPORT_READER) private readonly reader: ExportReader,
    @Inject(EXPORT_RECORDS) private readonly records: ExportRecords,
    @Inject(LAKE_TARGETS) private readonly lakes: LakeTargets,
    @Inject(CATALOG_CONFIG) private readonly config: CatalogConfig,
  ) {}

  /**
   * Exports the dataset. `caller.forRequest` (asked for over HTTP): reading the relation is bounded by
   * WEIR_REQUEST_STATEMENT_TIMEOUT_MS; a pipeline's `export` step is not.
   */
  async export(name: string, body: unknown, caller: ExportCaller): Promise<ExportResult> {
    const ds = await this.catalog.getDataset(name);
    assertDataPlane(ds.schema, ds.table, `Dataset "${name}"`);
    const pii = caller.unmasked
      ? new Set<string>()
      : new Set(ds.contract.columns.filter((c) => c.pii).map((c) => c.name));
    const problems = exportRequestProblems(body, ds.contract);
    const asked = (body as { partitionBy?: unknown } | null)?.partitionBy;
    if (Array.isArray(asked))
      asked.forEach((c, i) => {
        if (typeof c === 'string' && pii.has(c))
          problems.push(
            `partitionBy[${i}]: ${c} is a PII column, masked for this key: its values would be the folder names (an admin key exports it in clear)`,
          );
      });
    if (problems.length)
      throw new InvalidExportError(`The export request is invalid: ${problems.join('; ')}`, { errors: problems });
    const req = body as ExportRequest;
    const compression = req.compression ?? 'snappy';
    const codec = await this.lakes.codecProblem(compression);
    if (codec) throw new CodecUnavailableError(codec);
    const root = this.config.exportRoot;
    const target = resolveTarget(req.target, root, path.resolve);
    if (typeof target === 'string') throw new ExportTargetRefusedError(target, { target: req.target });
    const targetKey =
      target.kind === 'local' ? path.relative(root, target.dir) : `s3://${target.bucket}/${target.prefix}`;
    if (!(await this.catalog.tableExists(ds.schema, ds.table)))
      throw new TableNotFoundError(`${ds.schema}.${ds.table} does not exist yet (load or build the dataset first)`);

    const by = req.partitionBy ?? [];
    const columns = ds.contract.columns
      .filter((c) => !by.includes(c.name))
      .map((c) => (pii.has(c.name) ? maskedExportColumn(c) : exportColumn(c)));
    const masked = columns.filter((c) => c.mask).map((c) => c.name);
    const previous = await this.records.list(ds.id, targetKey);
    let only: (string | null)[][] | undefined;
    let skipped = 0;
    if (req.incremental) {
      const done = new Set(previous.map((p) => p.partition));
      const all = await this.reader.partitionValues(ds.schema, ds.table, by, { forRequest: caller.forRequest });
      only = all.filter((v) => !done.has(partitionPath(by, v)));
      skipped = all.length - only.length;
    }
    const lake = await this.lakes.open(target, req.s3);
    const options = {
      columns,
      compression,
      rowGroupSize: req.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE,
      kv: {
        'weir.dataset': ds.name,
        'weir.dataset_version': String(ds.version),
        ...(masked.length ? { 'weir.masked': masked.join(',') } : {}),
      },
    };
    const maxRows = req.maxRowsPerFile ?? DEFAULT_MAX_ROWS_PER_FILE;
    const written: ExportedPartition[] = [];
    const k = by.length;
    let part: ExportedPartition | undefined;
    let current: (string | null)[] | undefined;
    let sink: ParquetFileSink | undefined;
    let inFile = 0;
    const closeFile = async () => {
      if (sink && part) part.files.push({ ...(await sink.close()), ...(masked.length ? { masked } : {}) });
      sink = undefined;
      inFile = 0;
    };
    const same = (a: (string | null)[], b: (string | null)[]) => {
      for (let i = 0; i < k; i++) if (a[i] !== b[i]) return false;
      return true;
    };
    if (only === undefined || only.length > 0) {
      for await (const batch of this.reader.rows({
        schema: ds.schema,
        table: ds.table,
        columns,
        partitionBy: by,
        only,
        forRequest: caller.forRequest,
      })) {
        // runs of rows of one partition and file go to the sink together
        for (let r = 0; r < batch.length;) {
          const row = batch[r];
          if (!current || !same(current, row)) {
            await closeFile();
            current = row.slice(0, k);
            const key = partitionPath(by, current);
            if (key) await lake.clear(key); // a rewrite leaves none of the partition's earlier files
            part = {
              partition: key,
              values: Object.fromEntries(by.map((c, i) => [c, (current as (string | null)[])[i]])),
              rows: 0,
              files: [],
              datasetVersion: ds.version,
              exportedAt: new Date(),
            };
            written.push(part);
          }
          if (!sink || inFile >= maxRows) {
            await closeFile();
            sink = await lake.open(partFile((part as ExportedPartition).partition, part!.files.length), options);
          }
          let end = Math.min(batch.length, r + (maxRows - inFile));
          for (let e = r + 1; e < end; e++)
            if (!same(current, batch[e])) {
              end = e;
              break;
            }
          await sink.append(batch, r, end, k);
          inFile += end - r;
          part!.rows += end - r;
          r = end;
        }
      }
      await closeFile();
    }
    if (!req.incremental) {
      // a full export: partitions exported before that are gone from the relation go from the target too
      const now = new Set(written.map((p) => p.partition));
      for (const p of previous) if (p.partition && !now.has(p.partition)) await lake.clear(p.partition);
    }
    await this.records.save(ds.id, targetKey, written, !req.incremental);
    const all = await this.records.list(ds.id, targetKey);
    const manifest = {
      format: 'parquet',
      dataset: ds.name,
      datasetVersion: ds.version,
      exportedAt: new Date().toISOString(),
      compression,
      rowGroupSize: options.rowGroupSize,
      partitionBy: by,
      columns: columns.map((c) => ({
        name: c.name,
        type: c.type,
        parquet: c.kind,
        ...(c.mask ? { masked: true } : {}),
      })),
      rows: all.reduce((n, p) => n + p.rows, 0),
      files: all.flatMap((p) =>
        p.files.map((f) => ({ ...f, partition: p.values, datasetVersion: p.datasetVersion, exportedAt: p.exportedAt })),
      ),
    };
    await lake.writeText(MANIFEST_FILE, JSON.stringify(manifest, null, 2) + '\n');
    return {
      dataset: ds.name,
      datasetVersion: ds.version,
      target: target.kind === 'local' ? target.dir : targetKey,
      manifest: MANIFEST_FILE,
      written,
      rows: written.reduce((n, p) => n + p.rows, 0),
      files: written.reduce((n, p) => n + p.files.length, 0),
      skipped,
      masked,
    };
  }
}
