/**
 * dbt's jaffle_shop (../shared/corpora/jaffle_shop), unchanged: load the project, compile the 5
 * models, build seeds and models in DAG order on real PostgreSQL, and run its schema.yml tests as
 * quality expectations. Needs TEST_DATABASE_URL or DATABASE_URL (`npm run conformance` starts an
 * embedded server otherwise).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type Reporter } from '@weir/platform/testing';
import { sqlType } from '@weir/catalog';
import { CsvParser, inferContract } from '@weir/ingestion';
import { runSuite } from '@weir/quality';
import { compileProject } from '../src/domain/compile';
import { loadProject } from '../src/domain/project';
import { yamlTests } from '../src/domain/yaml-tests';
import { invokeDbt } from '../src/dbt/invocation';

export const jaffleSuite = {
  name: 'dbt-jaffle-shop',
  corpus: 'jaffle_shop',
  async run(dir: string, report: Reporter): Promise<void> {
    const server = process.env['TEST_DATABASE_URL'];
    if (!server) {
      report.skip('all', 'no PostgreSQL (set TEST_DATABASE_URL or DATABASE_URL)');
      return;
    }
    const project = loadProject(dir);
    const compiled = compileProject(project, { modelSchema: 'analytics', seedSchema: 'raw' });
    for (const m of project.models) {
      const n = compiled.nodes.get(`model.${m.name}`)!;
      if (n.compiledSql && !n.compiledSql.includes('{{') && !n.compiledSql.includes('{%'))
        report.pass(`compile ${m.name}`);
      else report.fail(`compile ${m.name}`, 'template left in the SQL');
    }
    const db = await createTestDatabase({ migrate: false, prefix: 'weir_jaffle' });
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('CREATE SCHEMA raw; CREATE SCHEMA analytics');
      for (const id of compiled.order) {
        const n = compiled.nodes.get(id)!;
        try {
          if (n.kind === 'seed') {
            const p = new CsvParser();
            const text = fs.readFileSync(path.join(dir, n.path!), 'utf8');
            const rows = [...p.push(text), ...p.push('', true)] as string[][];
            const header = rows.shift()!;
            const inferred = inferContract(
              header,
              rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))),
            );
            await c.query(
              `CREATE TABLE ${n.relation} (${inferred.columns.map((col) => `"${col.name}" ${sqlType(col)}`).join(', ')})`,
            );
            for (const r of rows)
              await c.query(
                `INSERT INTO ${n.relation} VALUES (${r.map((_, i) => `$${i + 1}`).join(', ')})`,
                r.map((v) => (v === '' ? null : v)),
              );
          } else if (n.kind === 'model') {
            await c.query(`CREATE ${n.materialized === 'view' ? 'VIEW' : 'TABLE'} ${n.relation} AS ${n.compiledSql}`);
          }
          report.pass(`build ${id}`);
        } catch (e) {
          report.fail(`build ${id}`, (e as Error).message);
        }
      }
      const counts = (
        await c.query(
          `SELECT (SELECT count(*) FROM analytics.customers)::int AS customers, (SELECT count(*) FROM analytics.orders)::int AS orders, (SELECT sum(amount) FROM analytics.orders)::text AS amount`,
        )
      ).rows[0];
      if (counts.customers === 100 && counts.orders === 99 && counts.amount === '1672')
        report.pass('row counts and totals');
      else report.fail('row counts and totals', JSON.stringify(counts));
      for (const [name, props] of project.properties) {
        const node = compiled.nodes.get(`model.${name}`);
        if (!node) continue;
        const { expectations, problems } = yamlTests(props, (ref) => {
          const t = compiled.nodes.get(`model.${ref}`) ?? compiled.nodes.get(`seed.${ref}`);
          return t ? `${t.schema}.${t.name}` : undefined;
        });
        for (const p of problems) report.fail(`tests ${name}`, p);
        const { results } = await runSuite(c, { schema: node.schema, table: node.name }, expectations);
        results.forEach((r) => {
          const id = `test ${name}.${r.expectation.kwargs['column']} ${(r.expectation.meta as { dbt_test: string }).dbt_test}`;
          if (r.success) report.pass(id);
          else report.fail(id, JSON.stringify(r.result).slice(0, 300) + (r.exception_info?.exception_message ?? ''));
        });
      }
    } finally {
      await c.end();
      await db.drop();
    }
    await dbtBuild(dir, report);
  },
};

/** jaffle_shop through the dbt runtime, unchanged: `dbt build` (3 seeds, 5 models, 20 tests) and `docs generate`. */
async function dbtBuild(dir: string, report: Reporter): Promise<void> {
  const db = await createTestDatabase({ migrate: false, prefix: 'weir_jaffle_dbt' });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-jaffle-'));
  try {
    fs.cpSync(dir, work, { recursive: true });
    const target = { name: 'dev', schema: 'analytics', database: db.name, threads: 1, type: 'postgres' as const };
    const build = await invokeDbt({ projectDir: work, args: ['build'], connectionString: db.url, target });
    const counts = (s: string) => build.results.filter((r) => r.resource_type === s).length;
    if (build.success && counts('seed') === 3 && counts('model') === 5 && counts('test') === 20)
      report.pass('dbt build');
    else
      report.fail(
        'dbt build',
        `${build.error ?? ''} ${JSON.stringify(build.results.filter((r) => r.status !== 'success' && r.status !== 'pass').map((r) => [r.name, r.message]))}`,
      );
    const docs = await invokeDbt({ projectDir: work, args: ['docs', 'generate'], connectionString: db.url, target });
    const catalog = JSON.parse(fs.readFileSync(path.join(work, 'target', 'catalog.json'), 'utf8')) as { nodes: object };
    if (docs.success && Object.keys(catalog.nodes).length === 8) report.pass('dbt docs generate');
    else report.fail('dbt docs generate', `${docs.error ?? ''} catalog nodes ${Object.keys(catalog.nodes).length}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    await db.drop();
  }
}

export const suites = [jaffleSuite];
