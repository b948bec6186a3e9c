import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { NextFunction, Request, Response } from 'express';

/**
 * The process's Prometheus registry (one per app instance, so two apps in one process, as in
 * tests, do not collide). Slices register their own counters on {@link MetricsService.registry}.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'weir_' });
    this.httpDuration = new Histogram({
      name: 'weir_http_request_duration_seconds',
      help: 'HTTP request duration by method, matched route and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
  }

  /** Express middleware timing every request; the route label is the route pattern, never the raw URL. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const end = this.httpDuration.startTimer();
      res.on('finish', () => {
        const routePath = req.route?.path as string | undefined;
        // handlers mounted ahead of the Nest router name their route in res.locals.route
        const route = routePath
          ? `${req.baseUrl ?? ''}${routePath}`
          : typeof res.locals?.['route'] === 'string'
            ? (res.locals['route'] as string)
            : 'unmatched';
        end({ method: req.method, route, status_code: String(res.statusCode) });
      });
      next();
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
