import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { QUALITY_EVENTS, QualityAlert, QualityEvents } from './quality.events';
import { QUALITY_CONFIG, QualityConfig } from '../quality.config';

/**
 * Posts every quality alert as JSON to WEIR_ALERT_WEBHOOK_URL, retried with exponential backoff
 * (3 attempts: now, +0.5 s, +1 s; 5 s timeout each). Does nothing when the variable is unset.
 */
@Injectable()
export class WebhookNotifier implements OnModuleInit {
  private readonly log = new Logger('quality');
  readonly url: string | undefined;
  /** Deliveries still in flight (tests await them). */
  readonly pending = new Set<Promise<boolean>>();

  constructor(
    @Inject(QUALITY_EVENTS) private readonly events: QualityEvents,
    @Inject(QUALITY_CONFIG) config: QualityConfig,
  ) {
    this.url = config.alertWebhookUrl;
  }

  onModuleInit(): void {
    if (!this.url) return;
    this.events.onAlert((a) => {
      const p = this.deliver(a).finally(() => this.pending.delete(p));
      this.pending.add(p);
    });
  }

  async deliver(alert: QualityAlert, attempts = 3): Promise<boolean> {
    for (let i = 0; i < attempts; i++) {
      try {
        const res = await fetch(this.url!, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(alert),
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) return true;
        this.log.warn(`alert webhook answered ${res.status} (attempt ${i + 1}/${attempts})`);
      } catch (e) {
        this.log.warn(`alert webhook failed: ${(e as Error).message} (attempt ${i + 1}/${attempts})`);
      }
      if (i + 1 < attempts) await new Promise((r) => setTimeout(r, 500 * 2 ** i));
    }
    this.log.error(`alert ${alert.type} for run ${alert.runId} not delivered after ${attempts} attempts`);
    return false;
  }
}
