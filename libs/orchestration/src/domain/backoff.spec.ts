import { backoffMs } from './backoff';
import type { RetryPolicy } from './pipeline';

const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 300_000 };

describe('backoffMs', () => {
  it('doubles the ceiling after each failed attempt (random near 1 gives almost the ceiling)', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(policy, a, top))).toEqual([999, 1999, 3999, 7999, 15999]);
  });

  it('applies full jitter: random() times the ceiling, as whole ms', () => {
    expect(backoffMs(policy, 1, () => 0.5)).toBe(500);
    expect(backoffMs(policy, 3, () => 0.25)).toBe(1000);
    expect(backoffMs(policy, 2, () => 0.3333)).toBe(666);
    expect(backoffMs(policy, 4, () => 0)).toBe(0);
  });

  it('never exceeds maxDelayMs, even for huge attempt numbers', () => {
    expect(backoffMs(policy, 10, () => 0.5)).toBe(150_000); // 1000 * 2^9 = 512000 > 300000
    expect(backoffMs(policy, 5000, () => 0.5)).toBe(150_000);
    expect(backoffMs(policy, 5000, () => 0.999999)).toBeLessThan(300_000);
  });

  it('is 0 with a zero base delay, not NaN', () => {
    expect(backoffMs({ ...policy, baseDelayMs: 0 }, 2000, () => 0.7)).toBe(0);
  });

  it('stays within the ceiling for a random outside [0, 1)', () => {
    expect(backoffMs(policy, 1, () => 1)).toBe(999);
    expect(backoffMs(policy, 1, () => -0.5)).toBe(0);
  });

  it('uses Math.random by default', () => {
    const spy = jest.spyOn(Math, 'random').mockReturnValue(0.1);
    try {
      expect(backoffMs(policy, 2)).toBe(200);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects an attempt number below 1 or not whole', () => {
    expect(() => backoffMs(policy, 0)).toThrow(RangeError);
    expect(() => backoffMs(policy, 1.5)).toThrow('attempt must be a whole number >= 1, got 1.5');
  });
});
