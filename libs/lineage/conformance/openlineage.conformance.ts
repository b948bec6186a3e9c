/**
 * OpenLineage 2-0-2 conformance over HTTP: every case of `openLineageCases` (the valid example
 * events and facet examples of ../shared/corpora/openlineage, and broken variants of them) is
 * POSTed to `/api/v1/lineage` of the lineage slice in a Nest app of its own, on a fresh migrated
 * database: valid events must answer 201 (and land in lineage.events), broken ones 400
 * LINEAGE.INVALID_EVENT with the schema errors — with WEIR_OPENLINEAGE_STRICT=true. Then again in
 * the default lenient mode: the cases whose only fault is a format or a missing schemaURL must
 * answer 201 with their warning, every structurally broken case still 400.
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
    const cases = openLineageCases(dir);
    // strict (WEIR_OPENLINEAGE_STRICT=true): every case as the spec's schema decides it
    await withApp(true, async (url) => {
      for (const c of cases) {
        const { status, body } = await post(url, c.event);
        if (c.expect === 'accept') {
          if (status === 201) report.pass(c.name);
          else report.fail(c.name, `expected 201 (${c.why}), got ${status}: ${JSON.stringify(body).slice(0, 400)}`);
        } else if (
          status === 400 &&
          body.code === 'LINEAGE.INVALID_EVENT' &&
          Array.isArray(body.errors) &&
          body.errors.length > 0
        ) {
          report.pass(c.name);
        } else {
          report.fail(
            c.name,
            `expected 400 LINEAGE.INVALID_EVENT with errors (${c.why}), got ${status}: ${JSON.stringify(body).slice(0, 400)}`,
          );
        }
      }
    });
    // lenient (the default): formats are annotations; the structurally broken are still refused
    await withApp(false, async (url) => {
      for (const c of cases) {
        if (c.expect === 'accept' && !c.lenient) continue; // accepted strictly: nothing new to learn
        const { status, body } = await post(url, c.event);
        const name = `lenient: ${c.name}`;
        if (c.lenient) {
          const kinds = (body.warnings ?? []).map((w) => w.kind);
          if (status === 201 && kinds.includes(c.lenient)) report.pass(name);
          else
            report.fail(
              name,
              `expected 201 with a ${c.lenient} warning, got ${status}: ${JSON.stringify(body).slice(0, 400)}`,
            );
        } else if (status === 400 && body.code === 'LINEAGE.INVALID_EVENT') report.pass(name);
        else
          report.fail(
            name,
            `expected 400 LINEAGE.INVALID_EVENT (${c.why}: structural, refused in lenient mode too), got ${status}: ${JSON.stringify(body).slice(0, 400)}`,
          );
      }
    });
  },
};

async function post(
  url: string,
  event: unknown,
): Promise<{ status: number; body: { code?: string; errors?: unknown[]; warnings?: { kind: string }[] } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  return {
    status: res.status,
    body: (await res.json()) as { code?: string; errors?: unknown[]; warnings?: { kind: string }[] },
  };
}

/** The lineage slice in a Nest app of its own, on a fresh migrated database, strict or lenient. */
async function withApp(strict: boolean, fn: (url: string) => Promise<void>): Promise<void> {
  const db = await createTestDatabase({ prefix: 'weir_ol_conformance' });
  try {
    const config = loadConfig({
      DATABASE_URL: db.url,
      WEIR_LOG_LEVEL: 'silent',
      WEIR_ROLES: 'api',
      WEIR_OPENLINEAGE_STRICT: String(strict),
    });
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
    try {
      await fn(`${await app.getUrl()}/api/v1/lineage`.replace('[::1]', '127.0.0.1'));
    } finally {
      await app.close();
    }
  } finally {
    await db.drop();
  }
}

export const suites = [openLineageSuite];
