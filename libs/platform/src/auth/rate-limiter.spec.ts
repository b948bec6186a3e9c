import { KeyRateLimiter } from './rate-limiter';
import { parseKeyDuration, resolveKeyExpiry } from './key-durations';
import { authConfig } from './auth.config';

describe('KeyRateLimiter', () => {
  it('lets a burst of the limit through, then says when the next token is back; keys are apart', () => {
    let now = 1_000_000;
    const l = new KeyRateLimiter(60, () => now); // one a second
    for (let i = 0; i < 60; i++) expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(1);
    expect(l.take('b')).toBe(0);
    now += 1000;
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(1);
    const slow = new KeyRateLimiter(2, () => now); // one every 30 s
    slow.take('k');
    slow.take('k');
    expect(slow.take('k')).toBe(30);
    expect(new KeyRateLimiter(0).take('k')).toBe(0);
  });
});

describe('key durations and settings', () => {
  it('reads durations and expiries, and refuses bad ones', () => {
    expect(parseKeyDuration('90d', 'x')).toBe(90 * 86_400_000);
    expect(parseKeyDuration('1h', 'x')).toBe(3_600_000);
    expect(() => parseKeyDuration('1 hour', '--grace')).toThrow(/--grace/);
    const now = new Date('2026-01-01T00:00:00Z');
    expect(resolveKeyExpiry({ expiresIn: '2w' }, now)?.toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(resolveKeyExpiry({ expiresAt: '2027-03-01' }, now)?.toISOString()).toBe('2027-03-01T00:00:00.000Z');
    expect(resolveKeyExpiry({}, now)).toBeUndefined();
    expect(() => resolveKeyExpiry({ expiresAt: '2025-01-01T00:00:00Z' }, now)).toThrow(/not in the future/);
    expect(() => resolveKeyExpiry({ expiresAt: 'next week' }, now)).toThrow(/ISO 8601/);
    expect(() => resolveKeyExpiry({ expiresAt: '2027-01-01', expiresIn: '1d' }, now)).toThrow(/not both/);
    expect(authConfig({}).rateLimitPerMinute).toBe(600);
    expect(authConfig({ WEIR_RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute).toBe(0);
    expect(() => authConfig({ WEIR_RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(/WEIR_RATE_LIMIT_PER_MINUTE/);
  });
});
