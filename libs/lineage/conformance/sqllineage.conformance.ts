/**
 * reata/sqllineage's cases (../shared/corpora/sql-lineage/sqllineage_cases.jsonl, 205 cases),
 * sent over HTTP to `POST /api/lineage/parse` (the lineage controller, its validation and its
 * service, in a Nest app of their own: no database needed; `weir lineage` calls the same service). Compared as upstream compares:
 * table names case-insensitively with unqualified = default schema, column lineage end-to-end
 * and DIRECT only, as a set. Target: ≥ 90% of the cases (failures are listed, not hidden).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import 'reflect-metadata';
import { Module, ValidationPipe } from '@nestjs/common';
import { VALIDATION_OPTIONS } from '@weir/platform';
import { NestFactory } from '@nestjs/core';
import { LineageService } from '../src/application/lineage.service';
import { LineageController } from '../src/http/lineage.controller';
import type { Reporter } from '@weir/platform/testing';

@Module({ controllers: [LineageController], providers: [LineageService] })
class ParseOnlyModule {}

interface Case {
  id: string;
  sql: string;
  asserts: 'table' | 'column';
  expected_tables_read: string[] | null;
  expected_tables_written: string[] | null;
  expected_column_lineage:
    { source: { table: string | null; column: string }; target: { table: string; column: string } }[] | null;
}

const norm = (t: string | null) => (t === null ? 'null' : t.toLowerCase().replace(/^<default>\./, ''));
const setOf = (xs: string[]) => [...new Set(xs)].sort();
const same = (a: string[], b: string[]) => JSON.stringify(setOf(a)) === JSON.stringify(setOf(b));

export const sqlLineageSuite = {
  name: 'sql-lineage',
  corpus: 'sql-lineage',
  minPassRatio: 0.9,
  async run(dir: string, report: Reporter): Promise<void> {
    const app = await NestFactory.create(ParseOnlyModule, { logger: false });
    app.useGlobalPipes(new ValidationPipe(VALIDATION_OPTIONS));
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/api/lineage/parse`.replace('[::1]', '127.0.0.1');
    try {
      await this.cases(dir, report, async (sql) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql }),
        });
        const body = await res.json();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
        return body as {
          tablesRead: string[];
          tablesWritten: string[];
          columnLineage: {
            source: { table: string | null; column: string };
            target: { table: string; column: string };
            type: string;
          }[];
        };
      });
    } finally {
      await app.close();
    }
  },
  async cases(
    dir: string,
    report: Reporter,
    parse: (sql: string) => Promise<{
      tablesRead: string[];
      tablesWritten: string[];
      columnLineage: {
        source: { table: string | null; column: string };
        target: { table: string; column: string };
        type: string;
      }[];
    }>,
  ): Promise<void> {
    const cases = fs
      .readFileSync(path.join(dir, 'sqllineage_cases.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Case);
    for (const c of cases) {
      let got;
      try {
        got = await parse(c.sql);
      } catch (e) {
        report.fail(c.id, `parse failed: ${(e as Error).message}`);
        continue;
      }
      const problems: string[] = [];
      if (c.expected_tables_read && !same(got.tablesRead.map(norm), c.expected_tables_read.map(norm)))
        problems.push(
          `read ${JSON.stringify(setOf(got.tablesRead.map(norm)))} ≠ ${JSON.stringify(setOf(c.expected_tables_read.map(norm)))}`,
        );
      if (c.expected_tables_written && !same(got.tablesWritten.map(norm), c.expected_tables_written.map(norm)))
        problems.push(
          `written ${JSON.stringify(setOf(got.tablesWritten.map(norm)))} ≠ ${JSON.stringify(setOf(c.expected_tables_written.map(norm)))}`,
        );
      if (c.expected_column_lineage) {
        const key = (e: {
          source: { table: string | null; column: string };
          target: { table: string; column: string };
        }) =>
          `${norm(e.source.table)}.${e.source.column.toLowerCase()} -> ${norm(e.target.table)}.${e.target.column.toLowerCase()}`;
        const want = c.expected_column_lineage.map(key);
        const have = got.columnLineage.filter((e) => e.type === 'DIRECT').map(key);
        if (!same(have, want))
          problems.push(
            `columns: missing ${JSON.stringify(setOf(want).filter((w) => !have.includes(w)))}, extra ${JSON.stringify(setOf(have).filter((h) => !want.includes(h)))}`,
          );
      }
      if (problems.length) report.fail(c.id, problems.join('; '));
      else report.pass(c.id);
    }
  },
};

export const suites = [sqlLineageSuite];
