import type { Partitions } from './pipeline';

/** A backfill or a partitions page covers at most this many partitions. */
export const MAX_PARTITIONS = 100_000;

const pad = (n: number) => String(n).padStart(2, '0');
const keyOf = (kind: 'hourly' | 'daily' | 'monthly', d: Date) =>
  kind === 'monthly'
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`
    : kind === 'daily'
      ? d.toISOString().slice(0, 10)
      : `${d.toISOString().slice(0, 10)}T${pad(d.getUTCHours())}`;

/** The start of the period a key names (UTC calendar arithmetic on the key itself); undefined for a bad key. */
export function periodStart(kind: 'hourly' | 'daily' | 'monthly', key: string): Date | undefined {
  const m =
    kind === 'monthly'
      ? /^(\d{4})-(\d{2})$/.exec(key)
      : kind === 'daily'
        ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(key)
        : /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/.exec(key);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, m[3] ? +m[3] : 1, m[4] ? +m[4] : 0));
  return keyOf(kind, d) === key ? d : undefined;
}

function step(kind: 'hourly' | 'daily' | 'monthly', d: Date): Date {
  const n = new Date(d);
  if (kind === 'hourly') n.setUTCHours(n.getUTCHours() + 1);
  else if (kind === 'daily') n.setUTCDate(n.getUTCDate() + 1);
  else n.setUTCMonth(n.getUTCMonth() + 1);
  return n;
}

/**
 * The partition keys of a pipeline from `from` to `to` (both included; keys in the pipeline's
 * form: `2026-12-01`, `2026-12-01T05`, `2026-12`), oldest first. Time partitions start no earlier
 * than the pipeline's `start`; static ones are the listed values between the two (in list order).
 * Throws RangeError with a message for a bad key, or a range of more than MAX_PARTITIONS.
 */
export function partitionKeys(p: Partitions, from?: string, to?: string): string[] {
  if (p.kind === 'static') {
    const values = p.values ?? [];
    const i = from === undefined ? 0 : values.indexOf(from);
    const j = to === undefined ? values.length - 1 : values.indexOf(to);
    if (i < 0) throw new RangeError(`from: "${from}" is not one of the pipeline's partitions`);
    if (j < 0) throw new RangeError(`to: "${to}" is not one of the pipeline's partitions`);
    return values.slice(i, j + 1);
  }
  const kind = p.kind;
  const first = periodStart(kind, keyOf(kind, new Date(p.start!.length === 10 ? `${p.start}T00:00:00Z` : p.start!)))!;
  const a = from === undefined ? first : periodStart(kind, from);
  if (!a) throw new RangeError(`from: "${from}" is not a ${kind} partition key`);
  const now = new Date();
  const b = to === undefined ? periodStart(kind, keyOf(kind, now))! : periodStart(kind, to);
  if (!b) throw new RangeError(`to: "${to}" is not a ${kind} partition key`);
  const out: string[] = [];
  const lo = a < first ? first : a;
  if (kind !== 'monthly') {
    // UTC hours and days have a fixed length: plain arithmetic (a page can cover 100,000 keys)
    const len = kind === 'hourly' ? 3_600_000 : 86_400_000;
    const n = Math.floor((b.getTime() - lo.getTime()) / len) + 1;
    if (n > MAX_PARTITIONS) throw new RangeError(`more than ${MAX_PARTITIONS} partitions in the range`);
    for (let i = 0, t = lo.getTime(); i < n; i++, t += len)
      out.push(new Date(t).toISOString().slice(0, kind === 'hourly' ? 13 : 10));
    return out;
  }
  for (let d = lo; d <= b; d = step(kind, d)) {
    if (out.length >= MAX_PARTITIONS) throw new RangeError(`more than ${MAX_PARTITIONS} partitions in the range`);
    out.push(keyOf(kind, d));
  }
  return out;
}

/** A range of time partitions: its first and last period, and how many partitions it holds. */
export interface PartitionRange {
  kind: 'hourly' | 'daily' | 'monthly';
  first: Date;
  last: Date;
  count: number;
}

/** The keys' form: a regular expression matching a key of this kind (and nothing else). */
export const KEY_PATTERN: Record<PartitionRange['kind'], string> = {
  hourly: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$',
  daily: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
  monthly: '^[0-9]{4}-[0-9]{2}$',
};

/** The key of a period start. */
export const partitionKey = (kind: PartitionRange['kind'], d: Date): string => keyOf(kind, d);

/**
 * The time partitions from `from` to `to` (both included, as {@link partitionKeys} reads them)
 * without listing them: a page reads only its own keys ({@link keysAt}). Empty ranges have count 0.
 */
export function partitionRange(p: Partitions, from?: string, to?: string): PartitionRange {
  if (p.kind === 'static') throw new RangeError('static partitions have no range');
  const kind = p.kind;
  const first = periodStart(kind, keyOf(kind, new Date(p.start!.length === 10 ? `${p.start}T00:00:00Z` : p.start!)))!;
  const a = from === undefined ? first : periodStart(kind, from);
  if (!a) throw new RangeError(`from: "${from}" is not a ${kind} partition key`);
  const b = to === undefined ? periodStart(kind, keyOf(kind, new Date()))! : periodStart(kind, to);
  if (!b) throw new RangeError(`to: "${to}" is not a ${kind} partition key`);
  const lo = a < first ? first : a;
  const months = (d: Date) => d.getUTCFullYear() * 12 + d.getUTCMonth();
  const count =
    b < lo
      ? 0
      : kind === 'monthly'
        ? months(b) - months(lo) + 1
        : Math.floor((b.getTime() - lo.getTime()) / (kind === 'hourly' ? 3_600_000 : 86_400_000)) + 1;
  if (count > MAX_PARTITIONS) throw new RangeError(`more than ${MAX_PARTITIONS} partitions in the range`);
  return { kind, first: lo, last: b, count };
}

/** `n` keys of the range from position `offset` (oldest first). */
export function keysAt(r: PartitionRange, offset: number, n: number): string[] {
  const out: string[] = [];
  for (let i = offset; i < Math.min(r.count, offset + n); i++) {
    const d = new Date(r.first);
    if (r.kind === 'hourly') d.setUTCHours(d.getUTCHours() + i);
    else if (r.kind === 'daily') d.setUTCDate(d.getUTCDate() + i);
    else d.setUTCMonth(d.getUTCMonth() + i);
    out.push(keyOf(r.kind, d));
  }
  return out;
}
