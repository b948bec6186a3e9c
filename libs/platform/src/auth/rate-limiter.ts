/**
 * A token bucket per API key, in this process: `perMinute` requests at once, refilled evenly over
 * a minute. Several instances each apply it (a key may make up to N × the limit across N of them).
 */
export class KeyRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private static readonly MAX_KEYS = 10_000;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `keyId`: 0 when the request may go on, else the seconds until one is back (≥ 1). */
  take(keyId: string): number {
    if (this.perMinute <= 0) return 0;
    const now = this.now();
    const rate = this.perMinute / 60_000; // tokens per millisecond
    let b = this.buckets.get(keyId);
    if (!b) {
      if (this.buckets.size >= KeyRateLimiter.MAX_KEYS) this.evictFull(now, rate);
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(keyId, b);
    } else {
      b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * rate);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }

  /** Buckets that have refilled are the same as none: dropping them bounds the memory. */
  private evictFull(now: number, rate: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * rate >= this.perMinute) this.buckets.delete(k);
    if (this.buckets.size >= KeyRateLimiter.MAX_KEYS) this.buckets.clear();
  }
}
