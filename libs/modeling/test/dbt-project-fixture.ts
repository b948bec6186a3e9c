import { environmentVariable } from '@weir/platform';
/**
 * A throwaway dbt project for the runtime specs: files written into a temp folder, `dbt <args>`
 * through invokeDbt against one test database (each project in its own target schema), and
 * SQL helpers to look at what it built.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@weir/platform/testing';
import { invokeDbt, type DbtInvocationResult, type DbtNodeResult } from '../src/dbt/invocation';

export interface DbtRun extends DbtInvocationResult {
  lines: string[];
}

export interface DbtFixture {
  db: TestDatabase;
  client: Client;
  /** A project in `<tmp>/<name>` (folder siblings allowed: `../my_pkg/...` paths). */
  project(files: Record<string, string>, opts?: { schema?: string; name?: string }): DbtProject;
  close(): Promise<void>;
}

export interface DbtProject {
  dir: string;
  schema: string;
  write(files: Record<string, string>): void;
  remove(file: string): void;
  dbt(args: string[], env?: Record<string, string>): Promise<DbtRun>;
  /** Rows as objects. */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  /** The first column of every row. */
  col(sql: string): Promise<unknown[]>;
  /** The manifest / run_results of the last invocation. */
  artifact(name: 'manifest.json' | 'run_results.json' | 'catalog.json'): Record<string, unknown>;
}

export const byName = (r: { results: DbtNodeResult[] }, name: string): DbtNodeResult => {
  const hit = r.results.find((x) => x.name === name);
  if (!hit) throw new Error(`no result for ${name}: ${r.results.map((x) => x.name).join(', ')}`);
  return hit;
};

export const statuses = (r: { results: DbtNodeResult[] }): Record<string, string> =>
  Object.fromEntries(r.results.map((x) => [x.name, x.status]));

let counter = 0;

export async function dbtFixture(prefix: string): Promise<DbtFixture> {
  const db = await createTestDatabase({ migrate: false, prefix });
  const client = new Client({ connectionString: db.url });
  await client.connect();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const write = (root: string, files: Record<string, string>) => {
    for (const [rel, text] of Object.entries(files)) {
      const f = path.resolve(root, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, text);
    }
  };
  return {
    db,
    client,
    project(files, opts = {}) {
      counter++;
      const name = opts.name ?? `p${counter}`;
      const schema = opts.schema ?? `s${counter}`;
      const dir = path.join(work, `case${counter}`, name);
      fs.mkdirSync(dir, { recursive: true });
      write(dir, files);
      const p: DbtProject = {
        dir,
        schema,
        write: (f) => write(dir, f),
        remove: (f) => fs.rmSync(path.resolve(dir, f), { force: true }),
        async dbt(args, env = {}) {
          const lines: string[] = [];
          const r = await invokeDbt({
            projectDir: dir,
            args,
            connectionString: db.url,
            target: { name: 'dev', schema, database: db.name, threads: 4, type: 'postgres' },
            env,
            log: (l) => lines.push(l),
          });
          // DBT_SPEC_DEBUG=1 prints each invocation's console lines
          if (environmentVariable('DBT_SPEC_DEBUG'))
            // eslint-disable-next-line no-console -- opt-in debugging output
            console.log([`dbt ${args.join(' ')}`, ...lines, r.error ?? ''].join('\n'));
          return { ...r, lines };
        },
        async rows(sql) {
          return (await client.query(sql)).rows as Record<string, unknown>[];
        },
        async col(sql) {
          const r = await client.query({ text: sql, rowMode: 'array' });
          return (r.rows as unknown[][]).map((x) => x[0]);
        },
        artifact: (n) => JSON.parse(fs.readFileSync(path.join(dir, 'target', n), 'utf8')) as Record<string, unknown>,
      };
      return p;
    },
    async close() {
      await client.end();
      await db.drop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** dbt_project.yml with `extra` YAML appended. */
export const projectYml = (name: string, extra = ''): string =>
  `name: ${name}\nversion: '1.0'\nconfig-version: 2\nprofile: weir\n${extra}`;
