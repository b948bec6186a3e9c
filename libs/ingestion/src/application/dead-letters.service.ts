import { Inject, Injectable } from '@nestjs/common';
import { Warehouse } from '@weir/platform';
import { CATALOG, CatalogPort, compileContract, MASK, REASON_CODES } from '@weir/catalog';

import { RunsService } from './runs.service';
import { SourcesService } from './sources.service';
import { UnknownReasonError } from '../ingestion.errors';

export interface DeadLetterView {
  id: string;
  recordNumber: number;
  reason: string;
  column: string | null;
  value: string | null;
  message: string;
  rawRecord: Record<string, unknown> | null;
  rawText: string | null;
}

interface Row {
  id: string;
  record_number: string;
  reason: string;
  column_name: string | null;
  value: string | null;
  message: string;
  raw_record: Record<string, unknown> | null;
  raw_text: string | null;
}

/**
 * Reading dead letters (paged, by reason, as CSV) with PII masked unless `unmasked` (admin keys),
 * and replaying them. Reads are asked for over HTTP: each statement is bounded by
 * WEIR_REQUEST_STATEMENT_TIMEOUT_MS.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly runs: RunsService,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    private readonly sources: SourcesService,
  ) {}

  /** The fields masked for a caller: the source fields and columns that are PII; none when `unmasked`. */
  private async piiFields(sourceId: string, unmasked: boolean): Promise<Set<string>> {
    if (unmasked) return new Set();
    const source = await this.sources.entity(sourceId, true); // a deleted source's runs stay readable
    const dataset = await this.catalog.findDataset(source.dataset);
    if (!dataset) return new Set();
    const compiled = compileContract(dataset.contract, { mapping: source.options.mapping });
    return new Set(
      compiled.sourceFields
        .filter((_, i) => compiled.pii[i])
        .concat(dataset.contract.columns.filter((c) => c.pii).map((c) => c.name)),
    );
  }

  /**
   * A dead letter as a caller sees it. Masked (`pii` holds the PII fields; empty for an admin key or
   * a dataset without PII): the raw record's PII fields, the value when its column (a key's columns
   * for DUPLICATE_KEY) is PII, and — the text of an unparseable record cannot be split into fields —
   * its raw text and any quoted excerpt in its message (V8's JSON errors quote the input).
   */
  private view(r: Row, pii: Set<string>): DeadLetterView {
    let raw = r.raw_record;
    let value = r.value;
    let message = r.message;
    let rawText = r.raw_text;
    if (pii.size) {
      if (raw)
        raw = Object.fromEntries(
          Object.entries(raw).map(([k, v]) => [k, pii.has(k) && v !== null && v !== undefined ? MASK : v]),
        );
      if (value !== null && r.column_name?.split(',').some((c) => pii.has(c))) value = MASK;
      if (rawText !== null) {
        rawText = MASK;
        message = message.replace(/"(?:[^"\\]|\\.)*"/g, `"${MASK}"`);
      }
    }
    return {
      id: r.id,
      recordNumber: Number(r.record_number),
      reason: r.reason,
      column: r.column_name,
      value,
      message,
      rawRecord: raw,
      rawText,
    };
  }

  private checkReason(reason?: string): void {
    if (reason && !(REASON_CODES as readonly string[]).includes(reason)) {
      throw new UnknownReasonError(`reason must be one of ${REASON_CODES.join(', ')}`);
    }
  }

  async page(runId: string, q: { reason?: string; page?: number; pageSize?: number }, unmasked: boolean) {
    const run = await this.runs.entity(runId);
    this.checkReason(q.reason);
    const page = q.page ?? 1;
    const pageSize = q.pageSize ?? 100;
    const pii = await this.piiFields(run.sourceId, unmasked);
    const rows = await this.warehouse.requestQuery<Row>(
      `SELECT id, record_number, reason, column_name, value, message, raw_record, raw_text FROM ingestion.dead_letters
        WHERE run_id = $1 AND ($2::text IS NULL OR reason = $2) ORDER BY record_number, id LIMIT $3 OFFSET $4`,
      [run.id, q.reason ?? null, pageSize, (page - 1) * pageSize],
    );
    const counts = await this.warehouse.requestQuery<{ reason: string; n: string }>(
      `SELECT reason, count(*) AS n FROM ingestion.dead_letters WHERE run_id = $1 GROUP BY reason`,
      [run.id],
    );
    const byReason = Object.fromEntries(counts.map((c) => [c.reason, Number(c.n)]));
    const total = q.reason ? (byReason[q.reason] ?? 0) : Object.values(byReason).reduce((a, b) => a + b, 0);
    return { items: rows.map((r) => this.view(r, pii)), total, page, pageSize, byReason };
  }

  /** Streams the run's dead letters as CSV lines (header first), PII masked unless `unmasked`. */
  async *csv(runId: string, reason: string | undefined, unmasked: boolean): AsyncGenerator<string> {
    const run = await this.runs.entity(runId);
    this.checkReason(reason);
    const pii = await this.piiFields(run.sourceId, unmasked);
    const esc = (v: unknown) => {
      if (v === null || v === undefined) return '';
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    yield 'record_number,reason,column,value,message,raw_record,raw_text\r\n';
    let after = 0;
    let afterId = '0';
    while (true) {
      const rows = await this.warehouse.requestQuery<Row>(
        `SELECT id, record_number, reason, column_name, value, message, raw_record, raw_text FROM ingestion.dead_letters
          WHERE run_id = $1 AND ($2::text IS NULL OR reason = $2) AND (record_number, id) > ($3, $4) ORDER BY record_number, id LIMIT 5000`,
        [run.id, reason ?? null, after, afterId],
      );
      if (rows.length === 0) return;
      after = Number(rows[rows.length - 1].record_number);
      afterId = rows[rows.length - 1].id;
      yield rows
        .map((r) => this.view(r, pii))
        .map(
          (d) =>
            [d.recordNumber, d.reason, d.column, d.value, d.message, d.rawRecord, d.rawText].map(esc).join(',') +
            '\r\n',
        )
        .join('');
    }
  }

  /** Re-validates the run's dead letters against the current contract; those that pass load as a new run. */
  async replay(runId: string, createdBy?: string) {
    const run = await this.runs.entity(runId);
    const source = await this.sources.entity(run.sourceId);
    const dataset = await this.catalog.getDataset(source.dataset);
    return this.runs.trigger(run.sourceId, {
      trigger: 'replay',
      replayOf: run.id,
      idempotencyKey: `replay:${run.id}:v${dataset.version}`,
      createdBy,
    });
  }
}
