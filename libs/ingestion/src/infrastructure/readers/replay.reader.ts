import type { Warehouse } from '@weir/platform';
import type { ReaderBatch } from './record.types';

/** Replay input: the dead letters of a run, as records, 5,000 at a time (unparseable ones stay unparseable). */
export async function* replayBatches(warehouse: Warehouse, runId: string): AsyncGenerator<ReaderBatch> {
  let after = '0';
  while (true) {
    const rows = await warehouse.query<{
      id: string;
      raw_record: Record<string, unknown> | null;
      raw_text: string | null;
      reason: string;
    }>(
      `SELECT id, raw_record, raw_text, reason FROM ingestion.dead_letters WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT 5000`,
      [runId, after],
    );
    if (rows.length === 0) return;
    after = rows[rows.length - 1].id;
    yield {
      records: rows.map((r) =>
        r.raw_record
          ? r.raw_record
          : { unparseable: true as const, text: r.raw_text ?? '', message: `still unparseable (was ${r.reason})` },
      ),
    };
  }
}
