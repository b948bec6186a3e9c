import { CronTime, validateCronExpression } from 'cron';
import { cronGapBelow, describeInterval } from '@weir/platform';

const YEAR_MS = 366 * 86_400_000;

/**
 * Why a schedule cannot be armed, or undefined: a bad cron expression, an unknown time zone, an
 * expression that never fires within a year (`0 0 30 2 *`: February has no 30th), or one firing
 * more often than `minIntervalMs` allows (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS).
 */
export function scheduleProblem(
  cron: string,
  timezone?: string | null,
  now = new Date(),
  minIntervalMs = 0,
): string | undefined {
  return scheduleCheck(cron, timezone, now, minIntervalMs)?.message;
}

/**
 * The same, saying whether the expression is malformed (`invalid`), well formed but never firing
 * (`never`), or firing more often than `minIntervalMs` (`too_frequent`).
 */
export function scheduleCheck(
  cron: string,
  timezone?: string | null,
  now = new Date(),
  minIntervalMs = 0,
): { kind: 'invalid' | 'never' | 'too_frequent'; message: string } | undefined {
  if (typeof cron !== 'string' || cron.trim() === '') return { kind: 'invalid', message: 'schedule.cron is required' };
  const v = validateCronExpression(cron);
  if (!v.valid)
    return {
      kind: 'invalid',
      message: `schedule.cron is not a valid cron expression (${v.error?.message ?? 'invalid'})`,
    };
  if (timezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      return { kind: 'invalid', message: `schedule.timezone "${timezone}" is not a known time zone` };
    }
  }
  let next: number;
  try {
    next = new CronTime(cron, timezone ?? undefined).getNextDateFrom(now).toMillis();
  } catch {
    return { kind: 'never', message: `schedule.cron "${cron}" never fires (no date matches it)` };
  }
  if (next - now.getTime() > YEAR_MS)
    return {
      kind: 'never',
      message: `schedule.cron "${cron}" does not fire within a year (next: ${new Date(next).toISOString()})`,
    };
  const gap = minIntervalMs > 0 ? cronGapBelow(cron, timezone ?? 'UTC', minIntervalMs) : undefined;
  if (gap !== undefined)
    return {
      kind: 'too_frequent',
      message: `schedule.cron "${cron}" fires every ${describeInterval(gap)}, more often than the minimum interval of ${describeInterval(minIntervalMs)} (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS)`,
    };
  return undefined;
}
