import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { hashApiKey, loadConfig, PlatformModule } from '@weir/platform';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const WEIR = path.join(ROOT, 'apps/cli/bin/weir.js');

async function weir(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WEIR, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('weir CLI (real process, real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase({ migrate: false })));
  afterAll(() => db?.drop());

  it('--help lists the commands', async () => {
    const r = await weir(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['migrate', 'migrate:create', 'registry', 'keys']) expect(r.stdout).toContain(c);
  });

  it('migrate applies the migrations, then reports the schema up to date', async () => {
    const first = await weir(['migrate'], { DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/applied \d+ migration\(s\):\n  PlatformApiKeys1763750000000/);
    const second = await weir(['migrate'], { DATABASE_URL: db.url });
    expect(second.stderr).toContain('database schema is up to date');
  }, 60_000);

  it('migrate --revert refuses while a Weir process uses the database (naming the migration and the process); --force goes on; alone it reverts', async () => {
    const config = loadConfig({ DATABASE_URL: db.url, WEIR_LOG_LEVEL: 'silent', WEIR_ROLES: 'api' });
    @Module({ imports: [PlatformModule.forRoot({ config, databaseUrl: db.url, warehouseUrl: db.url })] })
    class RunningWeir {}
    const running = await NestFactory.createApplicationContext(RunningWeir, { logger: false });
    await running.init();
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const last = async () =>
      (await c.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`)).rows[0].name as string;
    try {
      const before = await last();
      const refused = await weir(['migrate', '--revert'], { DATABASE_URL: db.url });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`refusing to revert ${before}`);
      expect(refused.stderr).toMatch(/weir:[0-9a-f]{8}:api:\d+:\S+/);
      expect(await last()).toBe(before);
      const forced = await weir(['migrate', '--revert', '--force'], { DATABASE_URL: db.url });
      expect(forced.code).toBe(0);
      expect(forced.stderr).toContain(`reverted ${before}`);
      expect(await last()).not.toBe(before);
    } finally {
      await running.close();
    }
    // no Weir process left: it reverts without --force (not a terminal: no question)
    const now = await last();
    const alone = await weir(['migrate', '--revert'], { DATABASE_URL: db.url });
    expect([alone.code, alone.stderr.trim()]).toEqual([0, `reverted ${now}`]);
    await c.end();
    expect((await weir(['migrate'], { DATABASE_URL: db.url })).code).toBe(0);
  }, 60_000);

  it('keys create prints the secret once on stdout and stores only its hash; keys list never shows it', async () => {
    const r = await weir(['keys', 'create', '--role', 'editor', '--name', 'nightly-load'], { DATABASE_URL: db.url });
    expect(r.code).toBe(0);
    const key = r.stdout.trim();
    expect(key).toMatch(/^weir_[A-Za-z0-9_-]{43}$/);
    expect(r.stderr).toContain('created editor key "nightly-load"');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const rows = (await c.query('SELECT role, key_hash FROM platform.api_keys WHERE name = $1', ['nightly-load'])).rows;
    await c.end();
    expect(rows).toEqual([{ role: 'editor', key_hash: hashApiKey(key) }]);
    const list = await weir(['keys', 'list'], { DATABASE_URL: db.url });
    expect(JSON.parse((await weir(['keys', 'list', '--json'], { DATABASE_URL: db.url })).stdout)).toEqual([
      expect.objectContaining({ role: 'editor', name: 'nightly-load' }),
    ]);
    expect(list.stdout).toMatch(/editor\s+weir_\S+…\s+active\s+expires -\s+used -\s+nightly-load/);
    expect(list.stdout).not.toContain(key);
  }, 300_000);

  // each `weir` starts a process that compiles the CLI: on a busy machine one takes seconds, so these tests run few
  it('keys create --expires-in / --expires-at set an expiry, shown by keys list; a bad one is refused', async () => {
    const env = { DATABASE_URL: db.url };
    const r = await weir(
      ['keys', 'create', '--role', 'viewer', '--name', 'quarterly', '--expires-in', '90d', '--json'],
      env,
    );
    expect(r.code).toBe(0);
    const days = (Date.parse(JSON.parse(r.stdout).expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    const at = await weir(
      ['keys', 'create', '--role', 'viewer', '--name', 'until-2099', '--expires-at', '2099-01-31T00:00:00Z'],
      env,
    );
    expect(at.code).toBe(0);
    expect(at.stderr).toContain('expires 2099-01-31T00:00:00Z');
    const refused = await weir(
      ['keys', 'create', '--role', 'viewer', '--name', 'bad', '--expires-at', '2001-01-01'],
      env,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('is not in the future');
    // an expired key is listed as such
    const c = new Client({ connectionString: db.url });
    await c.connect();
    await c.query(`UPDATE platform.api_keys SET expires_at = now() - interval '1 hour' WHERE name = 'quarterly'`);
    await c.end();
    const list = (await weir(['keys', 'list'], env)).stdout;
    expect(list).toMatch(/active\s+expires 2099-01-31T00:00:00Z\s+used -\s+until-2099/);
    expect(list).toMatch(/viewer\s+weir_\S+…\s+expired\s+expires \S+\s+used -\s+quarterly/);
    expect(list).not.toMatch(/\bbad\b/); // the refused key (not a 'bad' inside a random id)
  }, 300_000);

  it('keys rotate gives a key a new secret (once, on stdout), with or without a grace for the old one', async () => {
    const env = { DATABASE_URL: db.url };
    const created = JSON.parse(
      (await weir(['keys', 'create', '--role', 'editor', '--name', 'loader', '--json'], env)).stdout,
    );
    const { id, key: old } = created as { id: string; key: string };
    const row = async () => {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      const q = 'SELECT key_hash, previous_key_hash, previous_valid_until FROM platform.api_keys WHERE id = $1';
      const found = (await c.query(q, [id])).rows[0];
      await c.end();
      return found as { key_hash: string; previous_key_hash: string | null; previous_valid_until: Date | null };
    };
    const r = await weir(['keys', 'rotate', 'loader', '--grace', '1h'], env);
    expect(r.code).toBe(0);
    const fresh = r.stdout.trim();
    expect(fresh).toMatch(/^weir_[A-Za-z0-9_-]{43}$/);
    expect(fresh).not.toBe(old);
    expect(r.stderr).toMatch(/rotated key "loader" \(.+\); the old secret works until \S+Z/);
    const graced = await row();
    expect(graced.key_hash).toBe(hashApiKey(fresh));
    expect(graced.previous_key_hash).toBe(hashApiKey(old));
    const graceH = (graced.previous_valid_until!.getTime() - Date.now()) / 3_600_000;
    expect(graceH).toBeGreaterThan(0.9);
    expect(graceH).toBeLessThanOrEqual(1);
    // by id, without grace: only the newest secret is left
    const again = await weir(['keys', 'rotate', id, '--json'], env);
    expect(again.code).toBe(0);
    const j = JSON.parse(again.stdout);
    expect(j).toMatchObject({ id, name: 'loader', role: 'editor', previousValidUntil: null });
    expect(again.stderr).toContain('the old secret no longer works');
    expect(await row()).toEqual({ key_hash: hashApiKey(j.key), previous_key_hash: null, previous_valid_until: null });
    const unknown = await weir(['keys', 'rotate', 'nobody', '--grace', '1h'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('PLATFORM.API_KEY_NOT_FOUND');
  }, 300_000);

  it('refuses a bad role and a bad variable with clear messages', async () => {
    const role = await weir(['keys', 'create', '--role', 'root'], { DATABASE_URL: db.url });
    expect(role.code).not.toBe(0);
    expect(role.stderr).toContain('must be one of viewer, editor, admin');
    const cfg = await weir(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(cfg.code).toBe(78);
    expect(cfg.stderr.trim()).toBe(
      'weir: Invalid configuration: DATABASE_URL must be a postgres:// URL (got protocol "mysql:")',
    );
  }, 60_000);

  it('retention applies the retention settings now and says what each policy deleted', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await weir(['migrate'], { DATABASE_URL: db.url });
      await c.query(
        `INSERT INTO platform.outbox (topic, payload, dispatched_at) VALUES ('t', '{}', now() - interval '9 days'), ('t', '{}', now() - interval '2 days')`,
      );
      await c.query(
        `INSERT INTO lineage.events (kind, event_type, event_time, producer, payload, received_at) VALUES ('JobEvent', NULL, now(), 'p', '{}', now() - interval '40 days')`,
      );
      const r = await weir(['retention'], { DATABASE_URL: db.url, WEIR_LINEAGE_EVENTS_RETENTION_DAYS: '30' });
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([
        'platform.outbox: 1 rows deleted',
        'platform.audit_log: 0 rows deleted',
        'lineage.events: 1 rows deleted',
      ]);
      expect(r.stderr).toContain('platform.outbox: deletes dispatched outbox rows older than 7 days');
      expect((await c.query(`SELECT count(*)::int AS n FROM platform.outbox`)).rows[0].n).toBe(1);
    } finally {
      await c.end();
    }
  }, 60_000);
});

describe('weir load / weir runs show', () => {
  let db: TestDatabase;
  const dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'weir-cli-'));
  beforeAll(async () => {
    db = await createTestDatabase();
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const contract = {
      columns: [
        { name: 'id', type: 'integer', nullable: false, primaryKey: true },
        { name: 'name', type: 'text', nullable: false },
      ],
    };
    await c.query(
      `INSERT INTO catalog.datasets (name, warehouse_schema, warehouse_table, tags, contract, version) VALUES ('people', 'raw', 'people', '[]', $1, 1)`,
      [JSON.stringify(contract)],
    );
    await c.query(
      `INSERT INTO ingestion.sources (name, dataset, format, location, strategy, drift, options, max_rejected_ratio) VALUES ('people_csv', 'people', 'csv', '{}', '{"kind":"replace"}', 'freeze', '{}', 0.5)`,
    );
    await c.end();
    require('node:fs').writeFileSync(`${dir}/people.csv`, 'id,name\n1,Ann\n2,Bob\nx,Bad\n');
  });
  afterAll(async () => {
    await db?.drop();
    require('node:fs').rmSync(dir, { recursive: true, force: true });
  });

  it('loads a local file through a source and prints the accounting; runs show reads it back', async () => {
    const r = await weir(['load', `${dir}/people.csv`, '--source', 'people_csv'], { DATABASE_URL: db.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/run [0-9a-f-]{36}\s+SUCCEEDED/);
    expect(r.stdout).toContain('read 3 = loaded 2 + rejected 1 + deduplicated 0');
    const id = /run ([0-9a-f-]{36})/.exec(r.stdout)![1];
    const again = await weir(['load', `${dir}/people.csv`, '--source', 'people_csv'], { DATABASE_URL: db.url });
    expect(again.stderr).toContain(`already loaded by run ${id}`);
    expect(r.stdout).not.toMatch(/\[Nest\]|LOG/); // results alone on stdout
    // the worker stops before the pools close: no claim meets a closed connection on the way out
    expect(r.stderr + again.stderr).not.toMatch(/Connection terminated|worker loop/);
    const show = await weir(['runs', 'show', id, '--json'], { DATABASE_URL: db.url });
    expect(JSON.parse(show.stdout)).toMatchObject({
      id,
      status: 'succeeded',
      rowsRead: 3,
      rowsLoaded: 2,
      rowsRejected: 1,
    });
    const missing = await weir(['runs', 'show', '00000000-0000-0000-0000-000000000000'], { DATABASE_URL: db.url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('INGESTION.RUN_NOT_FOUND');
  }, 120_000);

  it("runs list --source lists a source's ingestion runs (--ingestion: every source's); runs list alone, pipeline runs", async () => {
    const first = JSON.parse(
      (await weir(['runs', 'list', '--ingestion', '--json'], { DATABASE_URL: db.url })).stdout,
    ) as { id: string }[];
    expect(first).toHaveLength(1);
    const id = first[0]!.id;
    const bySource = await weir(['runs', 'list', '--source', 'people_csv', '--json'], { DATABASE_URL: db.url });
    expect(JSON.parse(bySource.stdout)).toEqual([expect.objectContaining({ id, status: 'succeeded', rowsLoaded: 2 })]);
    const human = await weir(['runs', 'list', '--ingestion', '--status', 'succeeded'], { DATABASE_URL: db.url });
    expect([human.code, human.stdout]).toEqual([0, expect.stringMatching(new RegExp(`^run ${id}\\s+SUCCEEDED`))]);
    const pipelines = await weir(['runs', 'list'], { DATABASE_URL: db.url });
    expect([pipelines.code, pipelines.stdout, pipelines.stderr]).toEqual([
      0,
      '',
      expect.stringMatching(/no pipeline runs/),
    ]);
    const mixed = await weir(['runs', 'list', '--source', 'people_csv', '--pipeline', 'x'], { DATABASE_URL: db.url });
    expect([mixed.code, mixed.stderr]).toEqual([
      1,
      expect.stringMatching(/--pipeline and --partition are for pipeline runs/),
    ]);
  }, 120_000);

  it('exits 1 with the error when the run fails', async () => {
    require('node:fs').writeFileSync(`${dir}/bad.csv`, 'id,name\nx,1\ny,2\n');
    const r = await weir(['load', `${dir}/bad.csv`, '--source', 'people_csv'], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED');
    expect(r.stdout).toContain('INGESTION.TOO_MANY_REJECTED');
  }, 120_000);
});

describe('weir project import / weir build', () => {
  let db: TestDatabase;
  const fs = require('node:fs');
  const dir = fs.mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'weir-cli-dbt-'));
  beforeAll(async () => {
    db = await createTestDatabase();
    fs.mkdirSync(`${dir}/models`, { recursive: true });
    fs.mkdirSync(`${dir}/seeds`, { recursive: true });
    fs.writeFileSync(`${dir}/dbt_project.yml`, 'name: tiny\nmodels:\n  tiny:\n    materialized: table\n');
    fs.writeFileSync(`${dir}/seeds/raw_people.csv`, 'id,name\n1,Ann\n2,Bob\n');
    fs.writeFileSync(`${dir}/models/people.sql`, "select id, upper(name) as name from {{ ref('raw_people') }}");
    fs.writeFileSync(
      `${dir}/models/schema.yml`,
      'version: 2\nmodels:\n  - name: people\n    columns:\n      - name: id\n        tests: [unique, not_null]\n',
    );
  });
  afterAll(async () => {
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports a dbt project and builds it, audited', async () => {
    const imp = await weir(['project', 'import', dir], { DATABASE_URL: db.url });
    expect(imp.code).toBe(0);
    expect(imp.stdout.trim().split('\n')).toEqual(['seed.raw_people', 'model.people']);
    const b = await weir(['build', '--project', 'tiny'], { DATABASE_URL: db.url });
    expect(b.code).toBe(0);
    // stdout: the result alone, no log line, no colour (not a terminal)
    expect(b.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^succeeded\s+seed\.raw_people\s+2 rows$/),
      expect.stringMatching(/^succeeded\s+model\.people\s+2 rows$/),
    ]);
    expect(b.stdout + b.stderr).not.toMatch(/\u001b\[/);
    expect(b.stderr).not.toMatch(/\bLOG\b/);
    const json = await weir(['build', '--project', 'tiny', '--json'], { DATABASE_URL: db.url });
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'succeeded',
      steps: [
        { node: 'seed.raw_people', rowsAffected: 2 },
        { node: 'model.people', rowsAffected: 2 },
      ],
    });
    // --verbose: the progress logs, on stderr only
    const verbose = await weir(['build', '--project', 'tiny', '--verbose', '--json'], { DATABASE_URL: db.url });
    expect(JSON.parse(verbose.stdout)).toMatchObject({ status: 'succeeded' });
    expect(verbose.stderr).toMatch(/LOG \[modeling\] build [0-9a-f-]{36}: succeeded/);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    expect((await c.query('SELECT name FROM analytics.people ORDER BY id')).rows).toEqual([
      { name: 'ANN' },
      { name: 'BOB' },
    ]);
    await c.end();
  }, 120_000);

  it('deletes a project softly: its builds stay readable by the project id', async () => {
    const env = { DATABASE_URL: db.url };
    const before = JSON.parse((await weir(['builds', 'list', '--project', 'tiny', '--json'], env)).stdout);
    expect(before.length).toBeGreaterThan(0);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query(`SELECT id FROM modeling.projects WHERE name = 'tiny' AND deleted_at IS NULL`);
    await c.end();
    const deleted = await weir(['project', 'delete', 'tiny'], env);
    expect([deleted.code, deleted.stderr]).toEqual([0, expect.stringMatching(/project tiny: deleted/)]);
    const again = await weir(['project', 'delete', 'tiny'], env);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/No project "tiny"/)]);
    const after = JSON.parse((await weir(['builds', 'list', '--project', rows[0].id, '--json'], env)).stdout);
    expect(after.map((b: { id: string }) => b.id)).toEqual(before.map((b: { id: string }) => b.id));
    // registered again for the tests below
    expect((await weir(['project', 'import', dir], env)).code).toBe(0);
  }, 120_000);

  it("weir dbt runs dbt's commands with dbt's lines, exit codes and artifacts", async () => {
    const env = { DATABASE_URL: db.url };
    const b = await weir(['dbt', 'build', '--project-dir', dir, '--target-schema', 'tiny_dbt'], env);
    expect([b.code, b.stderr]).toEqual([0, expect.anything()]);
    expect(b.stdout).toMatch(/OK seed file tiny_dbt\.raw_people \.\.\. \[INSERT 2 in/);
    expect(b.stdout).toMatch(/PASS test unique_people_id/);
    expect(b.stdout).toMatch(/Done\. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4/);
    const rr = JSON.parse(fs.readFileSync(`${dir}/target/run_results.json`, 'utf8'));
    expect(rr.results.map((r: { unique_id: string }) => r.unique_id)).toContain('model.tiny.people');
    const ls = await weir(
      ['dbt', 'ls', '--project-dir', dir, '--select', 'people+', '--target-schema', 'tiny_dbt'],
      env,
    );
    expect(ls.stdout.trim().split('\n')).toEqual(['tiny.not_null_people_id', 'tiny.people', 'tiny.unique_people_id']);
    // a failing model: exit 1, dbt's error line naming the model and the line
    fs.writeFileSync(`${dir}/models/broken.sql`, 'select 1 as id\nfrom {{ ref("nowhere") }}');
    const broken = await weir(['dbt', 'run', '--project-dir', dir, '--target-schema', 'tiny_dbt'], env);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/depends on a node named 'nowhere' which was not found/);
    fs.rmSync(`${dir}/models/broken.sql`);
    // builds list: Weir's builds (this file's import test runs one); an unknown project is refused
    const builds = await weir(['builds', 'list', '--json'], env);
    expect(builds.code).toBe(0);
    const listed = JSON.parse(builds.stdout) as { project: string; status: string }[];
    expect(listed.length).toBeGreaterThan(0);
    // each names its project: these are the deleted "tiny"'s (its builds stay, with its name)
    expect(listed.every((b) => b.project === 'tiny')).toBe(true);
    const lines = (await weir(['builds', 'list', '--status', 'succeeded'], env)).stdout;
    expect(lines.split('\n')[0]).toMatch(/^[0-9a-f-]{36} {2}succeeded \S+ {2}tiny {2}weir build {2}2\/2 ok$/);
    // the project's models, in build order
    const models = await weir(['project', 'models', 'tiny'], env);
    expect([models.code, models.stdout]).toEqual([0, 'model.people  table       "analytics"."people"\n']);
    expect(JSON.parse((await weir(['project', 'models', 'tiny', '--json'], env)).stdout)).toEqual([
      expect.objectContaining({
        id: 'model.people',
        kind: 'model',
        materialized: 'table',
        dependsOn: ['seed.raw_people'],
      }),
    ]);
    const unknown = await weir(['builds', 'list', '--project', 'nope'], env);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/MODELING\.PROJECT_NOT_FOUND/)]);
  }, 120_000);
});

describe('weir lineage', () => {
  it('prints the lineage of a SQL file as the API returns it, and fails clearly on bad SQL', async () => {
    const dir = require('node:fs').mkdtempSync(path.join(require('node:os').tmpdir(), 'weir-lineage-'));
    const fs = require('node:fs') as typeof import('node:fs');
    fs.writeFileSync(path.join(dir, 'm.sql'), 'CREATE TABLE mart.t AS SELECT * FROM raw.s WHERE ok');
    fs.writeFileSync(path.join(dir, 'schemas.json'), JSON.stringify({ 'raw.s': ['id', 'ok'] }));
    const r = await weir(['lineage', path.join(dir, 'm.sql'), '--schemas', path.join(dir, 'schemas.json')]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ tablesRead: ['raw.s'], tablesWritten: ['mart.t'], unresolved: [] });
    expect(
      out.columnLineage
        .filter((e: { type: string }) => e.type === 'DIRECT')
        .map(
          (e: { source: { column: string }; target: { column: string } }) => `${e.source.column}->${e.target.column}`,
        ),
    ).toEqual(['id->id', 'ok->ok']);
    fs.writeFileSync(path.join(dir, 'bad.sql'), 'SELEC 1');
    const bad = await weir(['lineage', path.join(dir, 'bad.sql')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('LINEAGE.SQL_PARSE_ERROR');
    expect((await weir(['lineage', path.join(dir, 'missing.sql')])).stderr).toContain('LINEAGE.FILE_NOT_READABLE');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** `source -> target subtype` of the edges of one type, sorted. */
  const edges = (out: { columnLineage: Record<string, any>[] }, type: 'DIRECT' | 'INDIRECT') =>
    out.columnLineage
      .filter((e) => e.type === type)
      .map((e) => `${e.source.table}.${e.source.column} -> ${e.target.table}.${e.target.column} ${e.subtype}`)
      .sort();

  it('gives a plain SELECT (with or without CTEs) column lineage to its output columns', async () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'weir-lineage-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'q.sql'),
        'SELECT o.id, o.amount AS total, lower(c.email) AS email FROM raw.orders o JOIN raw.customers c ON c.id = o.customer_id WHERE o.ok',
      );
      const plain = JSON.parse((await weir(['lineage', path.join(dir, 'q.sql')])).stdout);
      expect(edges(plain, 'DIRECT')).toEqual([
        'raw.customers.email -> null.email TRANSFORMATION',
        'raw.orders.amount -> null.total IDENTITY',
        'raw.orders.id -> null.id IDENTITY',
      ]);
      expect(edges(plain, 'INDIRECT')).toEqual(
        expect.arrayContaining([
          'raw.customers.id -> null.total JOIN',
          'raw.orders.customer_id -> null.email JOIN',
          'raw.orders.ok -> null.id FILTER',
        ]),
      );
      expect(plain.tablesWritten).toEqual([]);
      const named = JSON.parse((await weir(['lineage', path.join(dir, 'q.sql'), '--target', 'mart.q'])).stdout);
      expect(named.tablesWritten).toEqual(['mart.q']);
      expect(edges(named, 'DIRECT')).toContain('raw.orders.amount -> mart.q.total IDENTITY');
      fs.writeFileSync(
        path.join(dir, 'cte.sql'),
        'WITH big AS (SELECT id, amount FROM raw.orders WHERE amount > 100), agg AS (SELECT count(*) AS n, sum(b.amount) AS s FROM big b) SELECT n, s * 2 AS double_s FROM agg',
      );
      const cte = JSON.parse((await weir(['lineage', path.join(dir, 'cte.sql')])).stdout);
      // through both CTEs to the table; count(*) counts rows, which the CTE's WHERE decides
      expect(edges(cte, 'DIRECT')).toEqual(['raw.orders.amount -> null.double_s AGGREGATION']);
      expect(edges(cte, 'INDIRECT')).toEqual([
        'raw.orders.amount -> null.double_s FILTER',
        'raw.orders.amount -> null.n FILTER',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("compiles a dbt model first (ref, ephemeral ref, Jinja), names its relation and knows its upstream's columns", async () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'weir-lineage-dbt-'));
    try {
      const put = (f: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), text);
      };
      put('dbt_project.yml', 'name: tiny\nconfig-version: 2\nversion: "1.0"\nprofile: tiny\n');
      put('seeds/raw_orders.csv', 'id,customer_id,status,amount_cents\n1,1,done,100\n');
      put('seeds/raw_customers.csv', 'id,name\n1,Ann\n');
      put(
        'models/stg_orders.sql',
        "select id as order_id, customer_id, status, amount_cents / 100.0 as amount from {{ ref('raw_orders') }}",
      );
      put(
        'models/done_orders.sql',
        "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('stg_orders') }} where status = 'done'",
      );
      put(
        'models/customer_totals.sql',
        [
          "{% set cols = ['name'] %}",
          'with orders as (select * from {{ ref("done_orders") }})',
          'select c.id as customer_id, {% for x in cols %}upper(c.{{ x }}) as {{ x }}{% endfor %}, sum(amount) as total',
          "from {{ ref('raw_customers') }} c join orders on orders.customer_id = c.id",
          'group by c.id, c.name',
        ].join('\n'),
      );
      // a SQL file of the project that is no model, without Jinja: plain SQL
      put('analyses/adhoc.sql', 'select t.a from ext.t');
      const byName = await weir(['lineage', 'customer_totals', '--project-dir', dir]);
      expect([byName.code, byName.stderr]).toEqual([0, '']);
      const out = JSON.parse(byName.stdout);
      expect(out).toMatchObject({
        tablesRead: ['analytics.raw_customers', 'analytics.stg_orders'],
        tablesWritten: ['analytics.customer_totals'],
        // `amount` is unqualified in a join: it resolves because stg_orders' columns are worked out from its SQL
        unresolved: [],
      });
      expect(edges(out, 'DIRECT')).toEqual([
        'analytics.raw_customers.id -> analytics.customer_totals.customer_id IDENTITY',
        'analytics.raw_customers.name -> analytics.customer_totals.name TRANSFORMATION',
        'analytics.stg_orders.amount -> analytics.customer_totals.total AGGREGATION',
      ]);
      expect(edges(out, 'INDIRECT')).toEqual(
        expect.arrayContaining([
          // the ephemeral model's WHERE, inlined as a CTE, filters every row
          'analytics.stg_orders.status -> analytics.customer_totals.total FILTER',
          'analytics.stg_orders.customer_id -> analytics.customer_totals.name JOIN',
          'analytics.raw_customers.name -> analytics.customer_totals.customer_id GROUP_BY',
        ]),
      );
      // by file: the same
      const byFile = await weir(['lineage', path.join(dir, 'models/customer_totals.sql'), '--compact']);
      expect(JSON.parse(byFile.stdout)).toEqual(out);
      // the model's own file without Jinja is a model too: its seed's * would expand
      const stg = JSON.parse((await weir(['lineage', path.join(dir, 'models/stg_orders.sql')])).stdout);
      expect(edges(stg, 'DIRECT')).toEqual([
        'analytics.raw_orders.amount_cents -> analytics.stg_orders.amount TRANSFORMATION',
        'analytics.raw_orders.customer_id -> analytics.stg_orders.customer_id IDENTITY',
        'analytics.raw_orders.id -> analytics.stg_orders.order_id IDENTITY',
        'analytics.raw_orders.status -> analytics.stg_orders.status IDENTITY',
      ]);
      const adhoc = JSON.parse((await weir(['lineage', path.join(dir, 'analyses/adhoc.sql')])).stdout);
      expect(edges(adhoc, 'DIRECT')).toEqual(['ext.t.a -> null.a IDENTITY']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('weir pipelines', () => {
  let db: TestDatabase;
  const fs = require('node:fs') as typeof import('node:fs');
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'weir-pipelines-'));
  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(async () => {
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies the YAML files of a project, lists them, runs one and waits; a bad file names every problem', async () => {
    fs.mkdirSync(path.join(dir, 'pipelines'));
    fs.writeFileSync(
      path.join(dir, 'pipelines', 'hello.yml'),
      'name: hello\nschedule: "@daily"\nsteps:\n  - id: one\n    kind: sql\n    sql: select 1\n  - id: two\n    kind: sql\n    sql: select 2\n    depends_on: one\n',
    );
    const env = { DATABASE_URL: db.url };
    const applied = await weir(['pipelines', 'apply', dir], env);
    expect([applied.code, applied.stderr]).toEqual([0, expect.stringMatching(/pipeline hello created/)]);
    const again = await weir(['pipelines', 'apply', dir], env);
    expect(again.stderr).toMatch(/pipeline hello at version 1/);
    const listed = await weir(['pipelines', 'list'], env);
    expect(listed.stdout).toMatch(/^hello {2}v1 {2}2 steps {2}schedule 0 0 \* \* \* \(UTC\)/m);
    const ran = await weir(['pipelines', 'run', 'hello'], env);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/of hello v1: succeeded/);
    expect(ran.stdout).toMatch(/succeeded one \(sql\) attempt 1\/1/);
    const runs = await weir(['pipelines', 'runs', 'hello', '--json'], env);
    expect(JSON.parse(runs.stdout).map((r: { trigger: string }) => r.trigger)).toEqual(['cli']);
    // weir runs …: pipeline runs too
    const listed2 = await weir(['runs', 'list', '--pipeline', 'hello', '--json'], env);
    const [only] = JSON.parse(listed2.stdout);
    expect(only).toMatchObject({ pipeline: 'hello', status: 'succeeded' });
    const shown = await weir(['runs', 'show', only.id], env);
    expect([shown.code, shown.stdout]).toEqual([0, expect.stringMatching(/of hello v1: succeeded/)]);
    const cancelled = await weir(['runs', 'cancel', only.id, '--json'], env);
    expect(JSON.parse(cancelled.stdout).status).toBe('succeeded'); // an ended run stays as it ended

    fs.writeFileSync(path.join(dir, 'pipelines', 'z_bad.yml'), 'name: bad\nsteps:\n  - id: a\n    kind: sqll\n');
    const bad = await weir(['pipelines', 'apply', dir], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/z_bad\.yml/);
    expect(bad.stderr).toMatch(/steps\[0\]\.kind/);
  }, 120_000);

  it('deletes a pipeline softly: refused while another pipeline runs it; its runs stay readable', async () => {
    const env = { DATABASE_URL: db.url };
    const other = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'weir-pipelines-caller-'));
    try {
      fs.writeFileSync(
        path.join(other, 'caller.yml'),
        'name: caller\nsteps:\n  - id: sub\n    kind: pipeline\n    pipeline: hello\n',
      );
      expect((await weir(['pipelines', 'apply', other], env)).code).toBe(0);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    const [run] = JSON.parse((await weir(['pipelines', 'runs', 'hello', '--json'], env)).stdout);
    const refused = await weir(['pipelines', 'delete', 'hello'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /Pipeline "hello" is in use: pipeline "caller" \(step "sub" runs it as a sub-pipeline\)/,
    );
    expect((await weir(['pipelines', 'delete', 'caller'], env)).code).toBe(0);
    const deleted = await weir(['pipelines', 'delete', 'hello'], env);
    expect([deleted.code, deleted.stderr]).toEqual([0, expect.stringMatching(/pipeline hello: deleted/)]);
    expect((await weir(['pipelines', 'list'], env)).stdout).not.toMatch(/^hello /m);
    const shown = await weir(['runs', 'show', run.id], env);
    expect([shown.code, shown.stdout]).toEqual([0, expect.stringMatching(/of hello v1: succeeded/)]);
  }, 120_000);

  it('applies an export step with PII in clear: the CLI runs as the operator, as an admin key', async () => {
    const file = path.join(dir, 'lake.yml');
    fs.writeFileSync(
      file,
      'name: lake_clear\nsteps:\n  - id: out\n    kind: export\n    dataset: people\n    target: lake\n    pii: clear\n',
    );
    const applied = await weir(['pipelines', 'apply', file], { DATABASE_URL: db.url });
    expect([applied.code, applied.stderr]).toEqual([0, expect.stringMatching(/pipeline lake_clear created/)]);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query(
        `SELECT v.spec, v.created_by FROM orchestration.pipeline_versions v JOIN orchestration.pipelines p ON p.id = v.pipeline_id WHERE p.name = 'lake_clear'`,
      );
      expect(rows.map((r) => [r.created_by, r.spec.steps[0].pii])).toEqual([['cli', 'clear']]);
    } finally {
      await c.end();
    }
  }, 60_000);
});
