import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FsTree, flushChanges } from 'nx/src/generators/tree';
import { parse } from 'yaml';
import { sliceGenerator } from '../src/generators/slice/slice.generator';
import { tableGenerator } from '../src/generators/table/table.generator';
import { checkRegistry } from '../src';
import { testServerUrl } from '@weir/platform/testing';
import { fixtureWorkspace } from './fixture-workspace';

const REPO = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

function tree(root: string): FsTree {
  return new FsTree(root, false);
}
function flush(root: string, t: FsTree): void {
  flushChanges(root, t.listChanges());
}
const registry = (root: string) => parse(fs.readFileSync(path.join(root, '.ai/project/DOMAIN_REGISTRY.yaml'), 'utf8'));

describe('nx g @weir/tools:slice / :table', () => {
  let ws: { root: string; remove: () => void };
  beforeEach(() => (ws = fixtureWorkspace()));
  afterEach(() => ws.remove());

  it('slice: refuses a name that is not registered, and writes nothing', async () => {
    const t = tree(ws.root);
    await expect(sliceGenerator(t, { name: 'billing' })).rejects.toThrow(
      /Refusing to create slice "billing": slice "billing" is not registered in \.ai\/project\/DOMAIN_REGISTRY\.yaml/,
    );
    expect(t.listChanges()).toEqual([]);
  });

  it('slice: refuses a slice that is already built', async () => {
    await expect(sliceGenerator(tree(ws.root), { name: 'catalog' })).rejects.toThrow(/already built/);
  });

  it('table: refuses an unregistered slice, a planned slice, a bad name and a duplicate', async () => {
    await expect(tableGenerator(tree(ws.root), { slice: 'billing', table: 'invoices' })).rejects.toThrow(
      /slice "billing" is not registered/,
    );
    await expect(tableGenerator(tree(ws.root), { slice: 'ingestion', table: 'runs' })).rejects.toThrow(
      /registered but not built yet.*nx g @weir\/tools:slice ingestion/,
    );
    await expect(tableGenerator(tree(ws.root), { slice: 'catalog', table: 'Bad-Name' })).rejects.toThrow(
      /lower_snake_case/,
    );
    await expect(tableGenerator(tree(ws.root), { slice: 'catalog', table: 'datasets' })).rejects.toThrow(
      /already lists it/,
    );
  });

  it('slice then table: the STYLE.md layout, registered and wired, and registry:check passes right after', async () => {
    const t = tree(ws.root);
    await sliceGenerator(t, { name: 'ingestion' });
    flush(ws.root, t);
    for (const f of [
      'project.json',
      'jest.config.js',
      'src/index.ts',
      'src/ingestion.module.ts',
      'src/ingestion.entities.ts',
      'src/http/ingestion.controller.ts',
      'src/http/ingestion.controller.spec.ts',
    ]) {
      expect(fs.existsSync(path.join(ws.root, 'libs/ingestion', f))).toBe(true);
    }
    const project = JSON.parse(fs.readFileSync(path.join(ws.root, 'libs/ingestion/project.json'), 'utf8'));
    expect(project).toMatchObject({ name: 'ingestion', tags: ['scope:ingestion', 'type:lib'] });
    expect(registry(ws.root).slices.ingestion).toMatchObject({ status: 'built', lib: 'libs/ingestion' });
    expect(fs.readFileSync(path.join(ws.root, '.ai/project/DOMAIN_REGISTRY.yaml'), 'utf8')).toContain(
      'purpose: Loads.',
    );
    expect(
      JSON.parse(fs.readFileSync(path.join(ws.root, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths[
        '@weir/ingestion'
      ],
    ).toEqual(['./libs/ingestion/src/index.ts']);
    expect(fs.readFileSync(path.join(ws.root, 'libs/ingestion/src/http/ingestion.controller.ts'), 'utf8')).toContain(
      "@Controller('api/ingestion')",
    );

    const t2 = tree(ws.root);
    await tableGenerator(t2, { slice: 'ingestion', table: 'load_runs', timestamp: 1700000000000 });
    flush(ws.root, t2);
    expect(registry(ws.root).slices.ingestion.tables).toEqual(['load_runs']);
    expect(fs.readFileSync(path.join(ws.root, 'libs/ingestion/src/ingestion.entities.ts'), 'utf8')).toMatch(
      /import \{ LoadRunsOrmEntity \}[\s\S]*LoadRunsOrmEntity,\n\];/,
    );
    expect(fs.existsSync(path.join(ws.root, 'migrations/1700000000000-create-ingestion-load-runs.ts'))).toBe(true);

    const findings = await checkRegistry({ root: ws.root, databaseUrl: testServerUrl() });
    expect(findings.map((f) => `[${f.check}] ${f.message}`).join('\n')).toBe('');
  });

  it('the real `nx g` command refuses an unregistered slice with a non-zero exit', async () => {
    let err: { code?: number; stdout?: string; stderr?: string } | undefined;
    try {
      await run(
        process.execPath,
        [
          path.join(REPO, 'node_modules/.bin/nx'),
          'g',
          '@weir/tools:slice',
          'not_registered_slice',
          '--dry-run',
          '--no-interactive',
        ],
        {
          cwd: REPO,
          env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
        },
      );
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).not.toBe(0);
    expect(`${err?.stdout}${err?.stderr}`).toContain('slice "not_registered_slice" is not registered');
    expect(fs.existsSync(path.join(REPO, 'libs/not_registered_slice'))).toBe(false);
  }, 60_000);
});
