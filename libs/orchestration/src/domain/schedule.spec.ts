import type { Schedule } from './pipeline';
import { dueTicks, fireTimes, ON_TIME_GRACE_MS, partitionOfTick, scheduleRefusal } from './schedule';

const cron = (expr: string, timezone = 'UTC', catchup: Schedule['catchup'] = 'none'): Schedule => ({
  cron: expr,
  everyMs: null,
  timezone,
  catchup,
});
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('fireTimes', () => {
  it('a 02:30 daily schedule in Europe/Berlin fires once on the spring-forward day and once on the fall-back day', () => {
    const spring = fireTimes(
      cron('30 2 * * *', 'Europe/Berlin'),
      new Date('2026-03-28T00:00:00Z'),
      new Date('2026-03-31T00:00:00Z'),
    );
    // 02:30 does not exist on 29 March: that day fires once, at the first valid minute after it (03:00 CEST)
    expect(iso(spring)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    const fall = fireTimes(
      cron('30 2 * * *', 'Europe/Berlin'),
      new Date('2026-10-24T00:00:00Z'),
      new Date('2026-10-27T00:00:00Z'),
    );
    // 02:30 happens twice on 25 October: it fires once, the first time (CEST)
    expect(iso(fall)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('reads aliases and intervals (aligned to the epoch, the same on every instance)', () => {
    expect(iso(fireTimes(cron('@hourly'), new Date('2026-12-05T10:10:00Z'), new Date('2026-12-05T12:00:00Z')))).toEqual(
      ['2026-12-05T11:00:00.000Z', '2026-12-05T12:00:00.000Z'],
    );
    const every: Schedule = { cron: null, everyMs: 15 * 60_000, timezone: 'UTC', catchup: 'all' };
    expect(iso(fireTimes(every, new Date('2026-12-05T10:07:00Z'), new Date('2026-12-05T10:45:00Z')))).toEqual([
      '2026-12-05T10:15:00.000Z',
      '2026-12-05T10:30:00.000Z',
      '2026-12-05T10:45:00.000Z',
    ]);
    expect(fireTimes(every, new Date('2026-12-05T10:00:00Z'), new Date('2026-12-06T10:00:00Z'), 5)).toHaveLength(5);
  });
});

describe('dueTicks', () => {
  const since = new Date('2026-12-01T00:00:00Z');
  it('catchup all: every tick missed since the last one fired', () => {
    const d = dueTicks(
      cron('0 * * * *', 'UTC', 'all'),
      new Date('2026-12-05T07:00:00Z'),
      since,
      new Date('2026-12-05T10:00:30Z'),
    );
    expect(iso(d)).toEqual(['2026-12-05T08:00:00.000Z', '2026-12-05T09:00:00.000Z', '2026-12-05T10:00:00.000Z']);
  });

  it('catchup latest: the newest only; none: the newest only if on time, else nothing', () => {
    const last = new Date('2026-12-05T07:00:00Z');
    expect(iso(dueTicks(cron('0 * * * *', 'UTC', 'latest'), last, since, new Date('2026-12-05T10:20:00Z')))).toEqual([
      '2026-12-05T10:00:00.000Z',
    ]);
    const none = cron('0 * * * *');
    expect(dueTicks(none, last, since, new Date('2026-12-05T10:20:00Z'))).toEqual([]);
    expect(iso(dueTicks(none, last, since, new Date(Date.parse('2026-12-05T10:00:00Z') + ON_TIME_GRACE_MS)))).toEqual([
      '2026-12-05T10:00:00.000Z',
    ]);
    // nothing twice: the tick fired last is not due again
    expect(dueTicks(none, new Date('2026-12-05T10:00:00Z'), since, new Date('2026-12-05T10:00:30Z'))).toEqual([]);
    // nothing before the pipeline was scheduled
    expect(
      dueTicks(
        cron('0 * * * *', 'UTC', 'all'),
        null,
        new Date('2026-12-05T09:30:00Z'),
        new Date('2026-12-05T10:00:10Z'),
      ),
    ).toHaveLength(1);
  });
});

describe('partitionOfTick', () => {
  it('is the UTC period that ended at the tick (complete, whatever the schedule zone)', () => {
    const t = new Date('2026-12-05T00:30:00Z'); // 01:30 in Berlin
    expect(partitionOfTick({ kind: 'daily', start: '2026-01-01', values: null }, t, 'Europe/Berlin')).toBe(
      '2026-12-04',
    );
    expect(partitionOfTick({ kind: 'hourly', start: '2026-01-01', values: null }, t, 'Europe/Berlin')).toBe(
      '2026-12-04T23',
    );
    // a Tokyo 01:00 tick is 16:00Z the day before: the day it processes has ended in UTC
    const tokyo = new Date('2026-03-10T16:00:00Z');
    expect(partitionOfTick({ kind: 'daily', start: '2026-01-01', values: null }, tokyo, 'Asia/Tokyo')).toBe(
      '2026-03-09',
    );
    expect(
      partitionOfTick({ kind: 'monthly', start: '2026-01-01', values: null }, new Date('2026-01-01T06:00:00Z'), 'UTC'),
    ).toBe('2025-12');
    expect(partitionOfTick({ kind: 'static', start: null, values: ['a'] }, t, 'UTC')).toBeNull();
    expect(partitionOfTick(null, t, 'UTC')).toBeNull();
  });
});

describe('scheduleRefusal', () => {
  const MIN = 60_000;
  const every = (ms: number): Schedule => ({ cron: null, everyMs: ms, timezone: 'UTC', catchup: 'none' });

  it('refuses a cron that never fires, saying so', () => {
    for (const c of ['0 0 30 2 *', '0 0 31 4 *', '0 0 0 31 2 *'])
      expect(scheduleRefusal(cron(c), MIN)).toEqual({
        reason: 'never_fires',
        message: `schedule.cron "${c}" never fires: no date matches it (a day that no month has, such as 30 February)`,
      });
  });

  it('refuses a schedule firing more often than the minimum interval, naming the setting', () => {
    expect(scheduleRefusal(cron('* * * * * *'), MIN)).toEqual({
      reason: 'too_frequent',
      message:
        'schedule.cron "* * * * * *" fires every 1 s, more often than the minimum interval of 1 min (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS)',
    });
    expect(scheduleRefusal(cron('*/30 * * * * *', 'Europe/Paris'), MIN)?.message).toMatch(/every 30 s, more often/);
    expect(scheduleRefusal(cron('*/5 * * * *'), 10 * MIN)?.message).toMatch(/every 5 min, more often than .* 10 min/);
    expect(scheduleRefusal(every(5000), MIN)).toEqual({
      reason: 'too_frequent',
      message:
        'schedule.every fires every 5 s, more often than the minimum interval of 1 min (WEIR_MIN_SCHEDULE_INTERVAL_SECONDS)',
    });
  });

  it('accepts what fires, no more often than the minimum (aliases, 29 February, data-aware schedules)', () => {
    for (const c of ['* * * * *', '0 * * * * *', '@hourly', '@daily', '30 2 * * *', '0 0 29 2 *'])
      expect([c, scheduleRefusal(cron(c), MIN)]).toEqual([c, undefined]);
    expect(scheduleRefusal(every(MIN), MIN)).toBeUndefined();
    expect(scheduleRefusal(cron('*/10 * * * * *'), 10_000)).toBeUndefined();
    expect(scheduleRefusal({ ...every(0), everyMs: null, datasets: ['orders'], when: 'all' }, MIN)).toBeUndefined();
    expect(scheduleRefusal(null, MIN)).toBeUndefined();
  });
});
