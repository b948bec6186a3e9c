import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { MetricsService, PlatformModuleOptions } from '@weir/platform';
import { AppModule } from './app.module';

/** Builds the OpenAPI document of a created app. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Weir API')
    .setDescription(
      'Ingest, model, check and trace data on PostgreSQL. Every route but /health needs an API key ' +
        '(Authorization: Bearer <key> or X-API-Key). Errors are application/problem+json with a stable `code`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Weir API key' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Creates the HTTP app exactly as `npm start` runs it (used by main.ts and the e2e tests):
 * JSON logs, metrics middleware, Swagger at /docs (+ /docs-json). Not yet listening.
 */
export async function createApp(opts: PlatformModuleOptions, extraModules: any[] = []): Promise<NestExpressApplication> {
  const root = extraModules.length
    ? { module: class WeirRootModule {}, imports: [AppModule.forRoot(opts), ...extraModules] }
    : AppModule.forRoot(opts);
  const app = await NestFactory.create<NestExpressApplication>(root, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(app.get(MetricsService).middleware());
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), { jsonDocumentUrl: 'docs-json' });
  return app;
}
