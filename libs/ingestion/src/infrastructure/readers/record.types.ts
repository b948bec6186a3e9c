/** A record as read from the input: CSV fields, or a JSON/Parquet object. */
export type RawRecord = string[] | Record<string, unknown>;

/** Input that could not be parsed into a record (dead-lettered as UNPARSEABLE). */
export interface Unparseable {
  unparseable: true;
  text: string;
  message: string;
}

export const isUnparseable = (r: RawRecord | Unparseable): r is Unparseable => (r as Unparseable).unparseable === true;

/** What a reader yields: batches of records (and, for CSV, the header before the first batch). */
export interface ReaderBatch {
  header?: string[];
  records: (RawRecord | Unparseable)[];
}

/** Thrown when the input as a whole cannot be read (broken JSON array, not a Parquet file…). */
export class InputUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputUnreadableError';
  }
}

/** The keys of the object records among `records`. */
export function objectKeys(records: (RawRecord | Unparseable)[]): string[] {
  const keys = new Set<string>();
  for (const r of records) if (!Array.isArray(r) && !isUnparseable(r)) for (const k of Object.keys(r)) keys.add(k);
  return [...keys];
}

/** The keys of `rec` not in `known`, or undefined when there are none (the common case allocates nothing). */
export function unknownKeysOf(rec: Record<string, unknown>, known: Set<string>): string[] | undefined {
  let out: string[] | undefined;
  for (const k in rec) if (!known.has(k)) (out ??= []).push(k);
  return out;
}
