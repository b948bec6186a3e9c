import { CronTime } from 'cron';
import { cronGapBelow, describeInterval } from '@weir/platform';
import { CRON_ALIASES } from './pipeline-spec';
import type { Partitions, Schedule } from './pipeline';

/** At most this many ticks are fired for one pipeline in one pass (catchup `all` after a long outage). */
export const MAX_TICKS_PER_PASS = 1000;
/** catchup `none`: a tick this late still fires (a scheduler pass, a restart); older ones are dropped. */
export const ON_TIME_GRACE_MS = 60_000;

/**
 * The fire times of a schedule in (after, until], oldest first, at most `limit`. Cron is read in
 * the schedule's time zone (DST-correct: a local time that does not exist fires once, at the first
 * valid minute after it; one that exists twice fires once, the first time); `every` is aligned to
 * the Unix epoch, so every instance computes the same ticks.
 */
export function fireTimes(s: Schedule, after: Date, until: Date, limit = MAX_TICKS_PER_PASS): Date[] {
  const out: Date[] = [];
  if (s.everyMs !== null) {
    let t = (Math.floor(after.getTime() / s.everyMs) + 1) * s.everyMs;
    for (; t <= until.getTime() && out.length < limit; t += s.everyMs) out.push(new Date(t));
    return out;
  }
  const expr = CRON_ALIASES[s.cron!] ?? s.cron!;
  const ct = new CronTime(expr, s.timezone);
  let from = after;
  while (out.length < limit) {
    const next = ct.getNextDateFrom(from, s.timezone).toJSDate();
    if (next.getTime() > until.getTime()) break;
    // a fall-back hour repeats local times: the same local minute fires once
    if (!out.length || next.getTime() > out[out.length - 1].getTime()) out.push(next);
    from = next;
  }
  return out;
}

/** Any date a real cron fires after; fixed so the answer does not depend on the clock. */
const CRON_PROBE_FROM = new Date('2000-01-01T00:00:00Z');

/** Why a well-formed schedule is refused: it never fires, or fires more often than the minimum interval. */
export interface ScheduleRefusal {
  reason: 'never_fires' | 'too_frequent';
  message: string;
}

/**
 * A schedule that would never fire (`0 0 30 2 *`: February has no 30th) or fire more often than
 * `minIntervalMs` (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS: `* * * * * *` is every second, `every: 5s`),
 * or undefined. Data-aware schedules fire on updates and are never refused here.
 */
export function scheduleRefusal(s: Schedule | null, minIntervalMs: number): ScheduleRefusal | undefined {
  if (!s) return undefined;
  const tooOften = (what: string, gap: number): ScheduleRefusal => ({
    reason: 'too_frequent',
    message: `${what} fires every ${describeInterval(gap)}, more often than the minimum interval of ${describeInterval(minIntervalMs)} (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS)`,
  });
  if (s.everyMs !== null) return s.everyMs < minIntervalMs ? tooOften(`schedule.every`, s.everyMs) : undefined;
  if (s.cron === null) return undefined;
  const expr = CRON_ALIASES[s.cron] ?? s.cron;
  try {
    new CronTime(expr, s.timezone).getNextDateFrom(CRON_PROBE_FROM, s.timezone);
  } catch {
    return {
      reason: 'never_fires',
      message: `schedule.cron "${s.cron}" never fires: no date matches it (a day that no month has, such as 30 February)`,
    };
  }
  const gap = cronGapBelow(expr, s.timezone, minIntervalMs);
  return gap === undefined ? undefined : tooOften(`schedule.cron "${s.cron}"`, gap);
}

/**
 * The ticks a scheduler pass fires: the fire times since the last tick fired (or since the
 * pipeline was scheduled), by the pipeline's `catchup` — `all` every one, `latest` the newest,
 * `none` the newest only if it is on time (missed ticks while every instance was down are dropped).
 */
export function dueTicks(s: Schedule, last: Date | null, scheduledSince: Date, now: Date): Date[] {
  const after = last && last.getTime() > scheduledSince.getTime() ? last : scheduledSince;
  if (s.catchup === 'all') return fireTimes(s, after, now);
  // the newest due time: walk forward in bounded steps (a long outage has many)
  let newest: Date | undefined;
  let from = after;
  for (;;) {
    const batch = fireTimes(s, from, now);
    if (!batch.length) break;
    newest = batch[batch.length - 1];
    if (batch.length < MAX_TICKS_PER_PASS) break;
    from = newest;
  }
  if (!newest) return [];
  if (s.catchup === 'none' && now.getTime() - newest.getTime() > ON_TIME_GRACE_MS) return [];
  return [newest];
}

/**
 * The partition a scheduled run processes: the period that ended at its tick (the day before a
 * daily tick, the hour before an hourly one, the month before a monthly one). Partition keys and
 * their bounds are UTC periods (as the `sql` step's `$2`, `$3` are), so the key is taken in UTC:
 * a key is always a complete period, whatever the schedule's time zone.
 */
export function partitionOfTick(p: Partitions | null, tick: Date, timezone = 'UTC'): string | null {
  void timezone; // the schedule's zone decides when ticks fire, not which UTC period they process
  if (!p || p.kind === 'static') return null;
  const parts = (d: Date) =>
    Object.fromEntries(
      new Intl.DateTimeFormat('en-CA', {
        timeZone: 'UTC',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        hourCycle: 'h23',
      })
        .formatToParts(d)
        .map((x) => [x.type, x.value]),
    ) as Record<string, string>;
  if (p.kind === 'hourly') {
    const x = parts(new Date(tick.getTime() - 3_600_000));
    return `${x['year']}-${x['month']}-${x['day']}T${x['hour']}`;
  }
  const x = parts(tick);
  if (p.kind === 'monthly') {
    const y = Number(x['year']);
    const m = Number(x['month']);
    return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  }
  const local = new Date(Date.UTC(Number(x['year']), Number(x['month']) - 1, Number(x['day'])) - 86_400_000);
  return local.toISOString().slice(0, 10);
}
