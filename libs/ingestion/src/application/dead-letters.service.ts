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

/** Reading dead letters (paged, by reason, as CSV) with PII masked, and replaying them. */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly runs: RunsService,
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    private readonly sources: SourcesService,
  ) {}

  private async piiFields(sourceId: string): Promise<Set<string>> {
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

  private view(r: Row, pii: Set<string>): DeadLetterView {
    let raw = r.raw_record;
    if (raw && pii.size)
      raw = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [k, pii.has(k) && v !== null && v !== undefined ? MASK : v]),
      );
    return {
      id: r.id,
      recordNumber: Number(r.record_number),
      reason: r.reason,
      column: r.column_name,
      value: r.value,
      message: r.message,
      rawRecord: raw,
      rawText: r.raw_text,
    };
  }

  private checkReason(reason?: string): void {
    if (reason && !(REASON_CODES as readonly string[]).includes(reason)) {
      throw new UnknownReasonError(`reason must be one of ${REASON_CODES.join(', ')}`);
    }
  }

  async page(runId: string, q: { reason?: string; page?: number; pageSize?: number }) {
    const run = await this.runs.entity(runId);
    this.checkReason(q.reason);
    const page = q.page ?? 1;
    const pageSize = q.pageSize ?? 100;
    const pii = await this.piiFields(run.sourceId);
    const rows = await this.warehouse.query<Row>(
      `SELECT id, record_number, reason, column_name, value, message, raw_record, raw_text FROM ingestion.dead_letters
        WHERE run_id = $1 AND ($2::text IS NULL OR reason = $2) ORDER BY record_number, id LIMIT $3 OFFSET $4`,
      [run.id, q.reason ?? null, pageSize, (page - 1) * pageSize],
    );
    const counts = await this.warehouse.query<{ reason: string; n: string }>(
      `SELECT reason, count(*) AS n FROM ingestion.dead_letters WHERE run_id = $1 GROUP BY reason`,
      [run.id],
    );
    const byReason = Object.fromEntries(counts.map((c) => [c.reason, Number(c.n)]));
    const total = q.reason ? (byReason[q.reason] ?? 0) : Object.values(byReason).reduce((a, b) => a + b, 0);
    return { items: rows.map((r) => this.view(r, pii)), total, page, pageSize, byReason };
  }

  /** Streams the run's dead letters as CSV lines (header first), PII masked. */
  async *csv(runId: string, reason?: string): AsyncGenerator<string> {
    const run = await this.runs.entity(runId);
    this.checkReason(reason);
    const pii = await this.piiFields(run.sourceId);
    const esc = (v: unknown) => {
      if (v === null || v === undefined) return '';
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    yield 'record_number,reason,column,value,message,raw_record,raw_text\r\n';
    let after = 0;
    let afterId = '0';
    while (true) {
      const rows = await this.warehouse.query<Row>(
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
