import { CronTime } from 'cron';

const DAY_S = 86_400;
/** Dates looked at for two firing days in a row: eight years hold every leap day and weekday pattern. */
const PROBE_DAYS = 8 * 366;
const PROBE_FROM = Date.UTC(2000, 0, 1);

/**
 * The shortest time between two fire times of a cron expression (five fields, or six with seconds
 * first), when it is shorter than `belowMs`; undefined when it is not (or when the expression
 * never fires: that is for the caller to say). Computed from the expression's fields, not by
 * walking its fire times: within a day, the gaps between its times of day; from one day to the
 * next, the last time of a day to the first of the next, when two days in a row fire. Times are
 * read on the wall clock of the schedule's zone (a daylight-saving change that shortens one night
 * once a year is not counted).
 */
export function cronGapBelow(cron: string, timezone: string, belowMs: number): number | undefined {
  const [sec, min, hour, dom, month, dow] = new CronTime(cron, timezone).toJSON() as string[];
  const seconds = values(sec!, 0, 59);
  const minutes = values(min!, 0, 59);
  const hours = values(hour!, 0, 23);
  const times: number[] = [];
  for (const h of hours) for (const m of minutes) for (const s of seconds) times.push(h * 3600 + m * 60 + s);
  times.sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  if (firesTwoDaysInARow(values(dom!, 1, 31), values(month!, 1, 12), values(dow!, 0, 6)))
    gap = Math.min(gap, DAY_S - times[times.length - 1]! + times[0]!);
  return gap * 1000 < belowMs ? gap * 1000 : undefined;
}

/** A field as CronTime prints it (`*` or a comma list) as its values. */
function values(field: string, lo: number, hi: number): number[] {
  if (field === '*') return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  return field.split(',').map(Number);
}

/** Whether two calendar days in a row fire (day-of-month and day-of-week as the cron package reads them). */
function firesTwoDaysInARow(doms: number[], months: number[], dows: number[]): boolean {
  const domSet = new Set(doms);
  const monthSet = new Set(months);
  const dowSet = new Set(dows);
  const domRestricted = domSet.size < 31;
  const dowRestricted = dowSet.size < 7;
  let previous = false;
  for (let d = 0; d < PROBE_DAYS; d++) {
    const date = new Date(PROBE_FROM + d * DAY_S * 1000);
    const inDom = domSet.has(date.getUTCDate());
    const inDow = dowSet.has(date.getUTCDay());
    const fires =
      monthSet.has(date.getUTCMonth() + 1) &&
      (domRestricted && dowRestricted ? inDom || inDow : (!domRestricted || inDom) && (!dowRestricted || inDow));
    if (fires && previous) return true;
    previous = fires;
  }
  return false;
}

/** A duration in words for messages: `1 s`, `30 s`, `5 min`, `2 h`, `90 s`. */
export function describeInterval(ms: number): string {
  const s = ms / 1000;
  if (s < 60 || s % 60 !== 0) return `${s} s`;
  if (s < 3600 || s % 3600 !== 0) return `${s / 60} min`;
  return `${s / 3600} h`;
}
