import { Readable } from 'node:stream';
import { InputUnreadableError, RawRecord, ReaderBatch, Unparseable } from './record.types';

const BATCH = 2000;

function toRecord(value: unknown, text: () => string): RawRecord | Unparseable {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { unparseable: true, text: text().slice(0, 100_000), message: 'not a JSON object' };
}

/** Newline-delimited JSON: one object per line; blank lines skipped; a bad line is one UNPARSEABLE record. */
export async function* readNdjson(text: Readable): AsyncGenerator<ReaderBatch> {
  let rest = '';
  let batch: (RawRecord | Unparseable)[] = [];
  const take = (line: string) => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') return;
    try {
      batch.push(toRecord(JSON.parse(line), () => line));
    } catch (e) {
      batch.push({ unparseable: true, text: line.slice(0, 100_000), message: `invalid JSON: ${(e as Error).message}` });
    }
  };
  for await (const chunk of text) {
    const s = rest + (chunk as string);
    let start = 0;
    let nl: number;
    while ((nl = s.indexOf('\n', start)) !== -1) {
      take(s.slice(start, nl));
      start = nl + 1;
    }
    rest = s.slice(start);
    if (batch.length >= BATCH) {
      yield { records: batch };
      batch = [];
    }
  }
  if (rest !== '') take(rest);
  if (batch.length > 0) yield { records: batch };
}

/**
 * A JSON array of objects (optionally at `jsonPath`, e.g. `data.items`), streamed with stream-json:
 * the array never sits in memory. A syntax error fails the whole input (there is no way to resync).
 */
export async function* readJsonArray(text: Readable, jsonPath?: string): AsyncGenerator<ReaderBatch> {
  const { parser } = require('stream-json') as typeof import('stream-json');
  const { streamArray } =
    require('stream-json/streamers/StreamArray') as typeof import('stream-json/streamers/StreamArray');
  const { pick } = require('stream-json/filters/Pick') as typeof import('stream-json/filters/Pick');
  const { chain } = require('stream-chain') as { chain: (fns: unknown[]) => Readable };
  const steps: unknown[] = [text, parser()];
  if (jsonPath) steps.push(pick({ filter: jsonPath }));
  steps.push(streamArray());
  const pipeline = chain(steps);
  let batch: (RawRecord | Unparseable)[] = [];
  try {
    for await (const item of pipeline as AsyncIterable<{ key: number; value: unknown }>) {
      batch.push(toRecord(item.value, () => JSON.stringify(item.value)));
      if (batch.length >= BATCH) {
        yield { records: batch };
        batch = [];
      }
    }
  } catch (e) {
    throw new InputUnreadableError(
      `not a readable JSON array${jsonPath ? ` at ${jsonPath}` : ''}: ${(e as Error).message}`,
    );
  }
  if (batch.length > 0) yield { records: batch };
}
