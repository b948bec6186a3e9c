import { cronGapBelow, describeInterval } from './cron-interval';

describe('cronGapBelow', () => {
  const MIN = 60_000;
  it('finds the gap of crons firing more often than the limit', () => {
    expect(cronGapBelow('* * * * * *', 'UTC', MIN)).toBe(1000);
    expect(cronGapBelow('*/10 * * * * *', 'UTC', MIN)).toBe(10_000);
    expect(cronGapBelow('0,30 * * * * *', 'Europe/Paris', MIN)).toBe(30_000);
    // twice a day only, 30 s apart
    expect(cronGapBelow('0,30 0 3 * * *', 'UTC', MIN)).toBe(30_000);
    // the shortest gap, not the first: minute 0 second 0, 0:59, 59:00 (59 s), 59:59, then 0:00 of the next hour (1 s)
    expect(cronGapBelow('0,59 0,59 * * * *', 'UTC', MIN)).toBe(1000);
    // from one day to the next: 23:59:30, then 00:00:00
    expect(cronGapBelow('30 59 23 * * *', 'UTC', MIN)).toBeUndefined();
    expect(cronGapBelow('0,30 0,59 0,23 * * *', 'UTC', MIN)).toBe(30_000);
    expect(cronGapBelow('0 0,59 0,23 * * *', 'UTC', 2 * MIN)).toBe(MIN);
    // ... only when two days in a row fire: the 1st and the 15th do not
    expect(cronGapBelow('0 0,59 0,23 1,15 * *', 'UTC', 2 * MIN)).toBeUndefined();
    // the last day of a month and the first of the next do
    expect(cronGapBelow('0 0,59 0,23 1,31 * *', 'UTC', 2 * MIN)).toBe(MIN);
    // Saturday and Sunday, or the 1st when it is a Monday or any Sunday (either matches, as cron reads it)
    expect(cronGapBelow('0 0,59 0,23 * * 6,0', 'UTC', 2 * MIN)).toBe(MIN);
    expect(cronGapBelow('0 0,59 0,23 1 * 0', 'UTC', 2 * MIN)).toBe(MIN);
    // five fields fire at most once a minute: below a limit of 5 minutes, every minute is 1 min
    expect(cronGapBelow('* * * * *', 'UTC', 5 * MIN)).toBe(MIN);
    expect(cronGapBelow('*/2 * * * *', 'UTC', 5 * MIN)).toBe(2 * MIN);
  });

  it('is undefined for crons that fire no more often than the limit, or never', () => {
    for (const c of ['* * * * *', '0 * * * * *', '*/15 * * * *', '30 2 * * *', '0 0 29 2 *', '0 0 1 1 *', '@daily'])
      expect([c, cronGapBelow(c, 'UTC', MIN)]).toEqual([c, undefined]);
    expect(cronGapBelow('30 2 * * *', 'America/New_York', MIN)).toBeUndefined();
    expect(cronGapBelow('0 0 30 2 *', 'UTC', MIN)).toBeUndefined();
  });

  it('describes intervals in words', () => {
    expect([1000, 30_000, 60_000, 90_000, 300_000, 3_600_000, 5_400_000].map(describeInterval)).toEqual([
      '1 s',
      '30 s',
      '1 min',
      '90 s',
      '5 min',
      '1 h',
      '90 min',
    ]);
  });
});
