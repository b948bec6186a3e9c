import { Readable } from 'node:stream';
import { copyTextValue, Warehouse } from '@weir/platform';
import type { Violation } from '@weir/catalog';

/** jsonb refuses NUL and unpaired surrogates: store U+FFFD instead, so a dead letter is never lost. */
function jsonbSafe(_k: string, v: unknown): unknown {
  return typeof v === 'string'
    ? (v as string & { toWellFormed(): string }).toWellFormed().replace(/\u0000/g, '\ufffd')
    : v;
}

const noNul = (s: string) => (s.includes('\u0000') ? s.replace(/\u0000/g, '\ufffd') : s);

const COLUMNS = ['run_id', 'record_number', 'reason', 'column_name', 'value', 'message', 'raw_record', 'raw_text'];
const FLUSH_ROWS = 5000;
const FLUSH_CHARS = 4 << 20;

/** Buffers dead letters and writes them to ingestion.dead_letters with COPY, a batch at a time. */
export class DeadLetterWriter {
  private lines: string[] = [];
  private chars = 0;
  count = 0;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly runId: string,
  ) {}

  /** Adds one; resolves once a full batch was flushed (so memory stays bounded). */
  async add(
    recordNumber: number,
    v: Violation,
    raw: Record<string, unknown> | null,
    rawText: string | null,
  ): Promise<void> {
    const line =
      [
        this.runId,
        String(recordNumber),
        v.reason,
        copyTextValue(v.column ?? null),
        copyTextValue(v.value === undefined || v.value === null ? null : noNul(v.value)),
        copyTextValue(noNul(v.message)),
        copyTextValue(raw === null ? null : JSON.stringify(raw, jsonbSafe)),
        copyTextValue(rawText === null ? null : noNul(rawText)),
      ].join('\t') + '\n';
    this.lines.push(line);
    this.chars += line.length;
    this.count++;
    if (this.lines.length >= FLUSH_ROWS || this.chars >= FLUSH_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const batch = this.lines;
    this.lines = [];
    this.chars = 0;
    await this.warehouse.copyFrom(
      { schema: 'ingestion', table: 'dead_letters' },
      COLUMNS,
      Readable.from([batch.join('')]),
    );
  }
}
