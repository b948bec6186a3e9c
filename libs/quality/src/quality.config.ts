import { ConfigError } from '@weir/platform';

/** Quality settings, from the environment (see README). */
export interface QualityConfig {
  /** Where every quality alert is posted as JSON (WEIR_ALERT_WEBHOOK_URL, http(s)); unset: alerts are only logged. */
  alertWebhookUrl?: string;
  /**
   * Most unexpected values (or rows) one check keeps as its sample (WEIR_QUALITY_SAMPLE_MAX,
   * default 1000): GX's `partial_unexpected_count` and a `COMPLETE` result format's lists are cut
   * to it. The default partial list stays GX's 20.
   */
  sampleMax: number;
}

/** The largest WEIR_QUALITY_SAMPLE_MAX accepted: samples are stored with every run's results. */
export const QUALITY_SAMPLE_MAX_CEILING = 100_000;

export const QUALITY_CONFIG = Symbol('QUALITY_CONFIG');

/** Reads and checks the quality slice's variables; a bad value throws {@link ConfigError} naming it. */
export function qualityConfig(env: Record<string, string | undefined> = process.env): QualityConfig {
  const url = env['WEIR_ALERT_WEBHOOK_URL']?.trim() || undefined;
  if (url !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      throw new ConfigError('WEIR_ALERT_WEBHOOK_URL', 'must be an http(s) URL');
  }
  const sample = env['WEIR_QUALITY_SAMPLE_MAX']?.trim();
  if (sample && (!/^\d+$/.test(sample) || Number(sample) < 1 || Number(sample) > QUALITY_SAMPLE_MAX_CEILING))
    throw new ConfigError(
      'WEIR_QUALITY_SAMPLE_MAX',
      `must be a whole number of values, from 1 to ${QUALITY_SAMPLE_MAX_CEILING} (got "${sample}")`,
    );
  return { alertWebhookUrl: url, sampleMax: sample ? Number(sample) : 1000 };
}
