/**
 * OpenLineage 2-0-2 conformance over HTTP: every case of `openLineageCases` (the valid example
 * events and facet examples of ../shared/corpora/openlineage, and broken variants of them) is
 * POSTed to `/api/v1/lineage` of the lineage slice in a Nest app of its own, on a fresh migrated
 * database: valid events must answer 201 (and land in lineage.events), broken ones 400
 * LINEAGE.INVALID_EVENT with the schema errors.
 */
import 'reflect-metadata';
import { json } from 'express';
import { Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { NestFactory } from '@nestjs/core';
import { loadConfig, PlatformModule, ProblemDetailsFilter, VALIDATION_OPTIONS } from '@weir/platform';
import { createTestDatabase, type Reporter } from '@weir/platform/testing';
import { LineageModule } from '../src/lineage.module';
import { openLineageCases } from './openlineage-cases';


export const openLineageSuite = {
  name: 'openlineage-spec',
  corpus: 'openlineage',
  async run(dir: string, report: Reporter): Promise<void> {
    const db = await createTestDatabase({ prefix: 'weir_ol_conformance' });
    const config = loadConfig({ DATABASE_URL: db.url, WEIR_LOG_LEVEL: 'silent', WEIR_ROLES: 'api' });
    @Module({
      imports: [PlatformModule.forRoot({ config, databaseUrl: db.url, warehouseUrl: db.url }), LineageModule],
      providers: [
        { provide: APP_PIPE, useValue: new ValidationPipe(VALIDATION_OPTIONS) },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    })
    class OpenLineageConformanceModule {}
    const app = await NestFactory.create(OpenLineageConformanceModule, { logger: false, bodyParser: false });
    app.use(json({ limit: '32mb' }));
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/api/v1/lineage`.replace('[::1]', '127.0.0.1');
    try {
      for (const c of openLineageCases(dir)) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.event) });
        const body = (await res.json()) as { code?: string; errors?: unknown[] };
        if (c.expect === 'accept') {
          if (res.status === 201) report.pass(c.name);
          else report.fail(c.name, `expected 201 (${c.why}), got ${res.status}: ${JSON.stringify(body).slice(0, 400)}`);
        } else if (res.status === 400 && body.code === 'LINEAGE.INVALID_EVENT' && Array.isArray(body.errors) && body.errors.length > 0) {
          report.pass(c.name);
        } else {
          report.fail(c.name, `expected 400 LINEAGE.INVALID_EVENT with errors (${c.why}), got ${res.status}: ${JSON.stringify(body).slice(0, 400)}`);
        }
      }
    } finally {
      await app.close();
      await db.drop();
    }
  },
};

export const suites = [openLineageSuite];
