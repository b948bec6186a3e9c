import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger, PinoLogger } from 'nestjs-pino';
import { json, NextFunction, Request, Response } from 'express';
import { ApiKeysService, AuditLog, inputGuard, MetricsService, PlatformModuleOptions, requestId } from '@weir/platform';
import { AppModule } from './app.module';
import { lineageConfig, OpenLineageService, openLineageIngestMiddleware } from '@weir/lineage';
import { MalformedBodyError, PayloadTooLargeError, UnsupportedMediaTypeError } from '@weir/platform';

/** The OpenAPI tags, one per slice, with what their routes do. */
export const OPENAPI_TAGS: Record<string, string> = {
  platform:
    'Health, Prometheus metrics and API keys (create, list, revoke). Keys carry a role: viewer, editor or admin.',
  catalog:
    'Datasets and their versioned contracts (columns, types, keys), search, previews, profiles and exports of the published tables.',
  ingestion:
    'Sources (files, uploads, S3, HTTP, databases, CDC, streams, Singer taps), schema inference, ingestion runs and their dead letters.',
  quality:
    'Expectation suites over datasets, quality runs with their results and samples, Great Expectations import and export.',
  modeling: 'SQL and dbt projects: upload, compile, build models into the warehouse, build history and artifacts.',
  lineage:
    'Table and column lineage: graph, impact analysis, pictures (Mermaid, DOT, SVG) and the OpenLineage/Marquez-compatible /api/v1 routes.',
  orchestration:
    'Pipelines of steps on schedules or dataset triggers, runs and cancellation, backfills over partitions, pools, alert destinations and SLA misses.',
};

/** Builds the OpenAPI document of a created app. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Weir API')
    .setDescription(
      'Ingest, model, check and trace data on PostgreSQL. Every route but /health needs an API key ' +
        '(Authorization: Bearer <key> or X-API-Key). Errors are application/problem+json with a stable `code`.',
    )
    .setVersion('0.1.0')
    // a Weir key is an opaque random string, not a JWT: no bearerFormat (Nest's default claims JWT)
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: undefined,
      description: 'A Weir API key (`weir keys create`), sent as Authorization: Bearer <key>',
    })
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
        description: 'The same Weir API key, in the X-API-Key header',
      },
      'api-key',
    );
  for (const [name, description] of Object.entries(OPENAPI_TAGS)) builder.addTag(name, description);
  return SwaggerModule.createDocument(app, builder.build());
}

/**
 * Creates the HTTP app exactly as `npm start` runs it (used by main.ts and the e2e tests):
 * JSON logs, metrics middleware, Swagger at /docs (+ /docs-json). Not yet listening.
 */
export async function createApp(
  opts: PlatformModuleOptions,
  extraModules: any[] = [],
): Promise<NestExpressApplication> {
  const root = extraModules.length
    ? { module: class WeirRootModule {}, imports: [AppModule.forRoot(opts), ...extraModules] }
    : AppModule.forRoot(opts);
  const app = await NestFactory.create<NestExpressApplication>(root, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // what Nest logged while it was created goes out now, and the buffer is detached: without this,
  // a process that never listens (WEIR_ROLES without api, the e2e apps) kept every later log line
  // in that buffer, in memory, unwritten (Nest flushes it on listen only)
  app.flushLogs();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(app.get(MetricsService).middleware());
  // Own body parsers, so a malformed or oversized body gets its own stable code.
  // Upload and infer routes stream their raw bodies themselves.
  const streamed = (req: { url?: string }) => /\/(uploads|infer)(\?|$)/.test(req.url ?? '');
  // OpenLineage events carry whole schemas and SQL: their own, larger limit (WEIR_OPENLINEAGE_MAX_BYTES)
  const openLineage = (req: { url?: string; method?: string }) =>
    req.method === 'POST' && /^\/api\/v1\/lineage(\/batch)?\/?(\?|$)/.test(req.url ?? '');
  const olLimit = lineageConfig(opts.config.env).maxEventBytes;
  // the request id first, so every answer carries it, a body refused before the router included
  app.use((req: Request & { id?: string }, res: Response, next: NextFunction) => {
    req.id ??= requestId(req, res);
    next();
  });
  // every POST, PUT, PATCH and DELETE is recorded in platform.audit_log once answered: ahead of the
  // body checks and the router, so what they refuse is recorded too
  app.use(app.get(AuditLog).middleware());
  // a body that is not JSON on a route that takes JSON: 415 naming the type the route takes
  // (without it, a form-encoded JSON text became one baffling property name)
  const rawBody = (req: Request) =>
    streamed(req) || (req.method === 'POST' && /^\/api\/modeling\/projects\/?(\?|$)/.test(req.url ?? ''));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    const type = String(req.headers['content-type'] ?? '');
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && hasBody && !/\bjson\b/i.test(type) && !rawBody(req)) {
      return next(
        new UnsupportedMediaTypeError(
          `This route takes application/json, not ${type ? JSON.stringify(type.split(';')[0]) : 'a body without Content-Type'}; send the header Content-Type: application/json`,
          { accepts: ['application/json'] },
        ),
      );
    }
    next();
  });
  app.use(
    // the raw text is kept so an accepted event is stored as sent, without serialising it again
    json({
      limit: olLimit,
      type: (req) => openLineage(req) && /\bjson\b/.test(String(req.headers['content-type'] ?? '')),
      verify: (req, _res, buf) => void ((req as { rawBody?: Buffer }).rawBody = buf),
    }),
    json({
      limit: opts.config.bodyMaxBytes,
      type: (req) => !streamed(req) && !openLineage(req) && /\bjson\b/.test(String(req.headers['content-type'] ?? '')),
    }),
    // a refusal names the limit and the setting it comes from
    bodyErrors((req) =>
      openLineage(req)
        ? { limit: olLimit, setting: 'WEIR_OPENLINEAGE_MAX_BYTES' }
        : { limit: opts.config.bodyMaxBytes, setting: 'WEIR_BODY_MAX_BYTES' },
    ),
    // NUL characters, lone surrogates and bodies nested too deep: refused here, for every route
    inputGuard(),
  );
  // the one-event-per-request OpenLineage route, ahead of the Nest router (see the middleware)
  app.use(
    openLineageIngestMiddleware(app.get(OpenLineageService), app.get(ApiKeysService), {
      isLevelEnabled: (l) => PinoLogger.root.isLevelEnabled(l),
      write: (level, o, m) => PinoLogger.root[level](o, m),
    }),
  );
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** `n` bytes as a person reads it: `1 MiB`, `512 KiB`, `1500 bytes`. */
function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const)
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  return `${n} bytes`;
}

/** The body parsers' failures as problems with their own codes; `limitOf` says which limit a request had. */
function bodyErrors(limitOf: (req: Request) => { limit: number; setting: string }) {
  return (err: { type?: string; status?: number } | undefined, req: Request, _res: Response, next: NextFunction) => {
    if (err?.type === 'entity.parse.failed') return next(new MalformedBodyError('The request body is not valid JSON'));
    if (err?.type === 'entity.too.large') {
      const { limit, setting } = limitOf(req);
      const shown = formatBytes(limit);
      return next(
        new PayloadTooLargeError(
          `The request body is larger than ${shown}, the most ${setting} allows${shown === `${limit} bytes` ? '' : ` (${limit} bytes)`}`,
          { limitBytes: limit, setting },
        ),
      );
    }
    if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') {
      return next(new UnsupportedMediaTypeError('The request body encoding or charset is not supported'));
    }
    next(err);
  };
}
