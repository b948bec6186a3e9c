import { CronTime, validateCronExpression } from 'cron';

const YEAR_MS = 366 * 86_400_000;

/**
 * Why a schedule cannot be armed, or undefined: a bad cron expression, an unknown time zone, or an
 * expression that never fires within a year (`0 0 30 2 *`: February has no 30th).
 */
export function scheduleProblem(cron: string, timezone?: string | null, now = new Date()): string | undefined {
  return scheduleCheck(cron, timezone, now)?.message;
}

/** The same, saying whether the expression is malformed (`invalid`) or well formed but never firing (`never`). */
export function scheduleCheck(
  cron: string,
  timezone?: string | null,
  now = new Date(),
): { kind: 'invalid' | 'never'; message: string } | undefined {
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
  return undefined;
}
