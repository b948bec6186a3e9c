import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@weir/platform';
import { FORMATS, SourceFormat } from '../domain/source';
import { ColumnNaming, inferContract } from '../domain/infer';
import { resolveInRoot } from '../infrastructure/input-file.util';
import { openRecords } from '../infrastructure/readers/open-records.reader';
import { isUnparseable, RawRecord } from '../infrastructure/readers/record.types';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { UnknownFormatError, UnreadableInputError } from '../ingestion.errors';

export function formatFromName(name: string): SourceFormat | undefined {
  const n = name.toLowerCase().replace(/\.gz$/, '');
  if (n.endsWith('.csv') || n.endsWith('.tsv') || n.endsWith('.txt')) return 'csv';
  if (n.endsWith('.ndjson') || n.endsWith('.jsonl')) return 'ndjson';
  if (n.endsWith('.json')) return 'json';
  if (n.endsWith('.parquet')) return 'parquet';
  return undefined;
}

/**
 * Proposes a contract from the first N records of a file, read by the ingestion readers (the same
 * that load it: BOM stripped, gzip, quoting): `POST /api/ingestion/infer`, and dbt seeds.
 */
@Injectable()
export class InferService {
  constructor(@Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig) {}

  resolve(path: string): string {
    return resolveInRoot(this.cfg.ingestRoot, path);
  }

  async infer(
    file: string,
    opts: { format?: SourceFormat; name?: string; rows?: number; delimiter?: string; naming?: ColumnNaming },
  ) {
    const format = opts.format ?? formatFromName(opts.name ?? file);
    if (!format || !(FORMATS as readonly string[]).includes(format)) {
      throw new UnknownFormatError(
        `Cannot tell the format from ${JSON.stringify(opts.name ?? file)}; pass format=csv|ndjson|json|parquet`,
      );
    }
    const limit = opts.rows ?? 1000;
    const csv =
      format === 'csv'
        ? { delimiter: opts.delimiter ?? (/\.tsv(\.gz)?$/i.test(opts.name ?? file) ? '\t' : ',') }
        : undefined;
    try {
      return await this.sample(file, format, csv, limit, opts.naming);
    } catch (e) {
      // a file its format's reader cannot read (garbage Parquet, JSON nested beyond reason) is the
      // caller's problem, said plainly; never a 500
      if (e instanceof DomainError) throw e;
      const why = e instanceof RangeError ? 'nested too deeply to read' : (e as Error).message;
      throw new UnreadableInputError(`Cannot read ${JSON.stringify(opts.name ?? file)} as ${format}: ${why}`);
    }
  }

  private async sample(
    file: string,
    format: SourceFormat,
    csv: { delimiter: string } | undefined,
    limit: number,
    naming?: ColumnNaming,
  ) {
    const opened = await openRecords(file, format, { csv });
    const records: Record<string, unknown>[] = [];
    let fields: string[] = [];
    const seen = new Set<string>();
    try {
      for await (const batch of opened.batches) {
        if (batch.header) fields = batch.header;
        for (const r of batch.records as (RawRecord | { unparseable: true })[]) {
          if (isUnparseable(r as never)) continue;
          if (Array.isArray(r)) records.push(Object.fromEntries(fields.map((f, i) => [f, r[i]])));
          else {
            for (const k of Object.keys(r)) {
              if (!seen.has(k)) {
                seen.add(k);
                fields.push(k);
              }
            }
            records.push(r);
          }
          if (records.length >= limit) break;
        }
        if (records.length >= limit) break;
      }
    } finally {
      opened.cleanup();
    }
    const inference = inferContract(fields, records, naming);
    return {
      format,
      rowsSampled: records.length,
      fields,
      contract: { columns: inference.columns },
      mapping: inference.mapping,
      candidateKeys: inference.candidateKeys,
    };
  }
}
