import { ConfigError } from '@weir/platform';

/** Quality settings, from the environment (see README). */
export interface QualityConfig {
  /** Where every quality alert is posted as JSON (WEIR_ALERT_WEBHOOK_URL, http(s)); unset: alerts are only logged. */
  alertWebhookUrl?: string;
}

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
  return { alertWebhookUrl: url };
}
