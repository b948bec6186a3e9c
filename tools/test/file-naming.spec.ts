import * as fs from 'node:fs';
import * as path from 'node:path';

/** The roles a file under application/, infrastructure/ or http/ may carry (docs/STYLE.md, Files). */
const ROLES = [
  'service',
  'port',
  'controller',
  'request.dto',
  'response.dto',
  'orm-entity',
  'orm-entities',
  'repository',
  'store',
  'sql',
  'writer',
  'reader',
  'publisher',
  'publishers',
  'materializer',
  'engine',
  'parser',
  'views',
  'events',
  'notifier',
  'runner',
  'scanner',
  'mapper',
  'translator',
  'compiler',
  'extractor',
  'lock',
  'plan',
  'metrics',
  'types',
  'util',
  'ddl',
  'guard',
  'filter',
  'decorators',
  'middleware',
  'errors',
  'config',
  'worker',
  'module',
  'spec',
];
const ROLE = new RegExp(
  `^[a-z0-9]+(?:-[a-z0-9]+)*\\.(?:${ROLES.map((r) => r.replace('.', '\\.')).join('|')})(?:\\.spec)?\\.ts$`,
);

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('file names', () => {
  const root = path.resolve(__dirname, '../..');
  const files = walk(path.join(root, 'libs')).filter((f) => /\/src\/(application|infrastructure|http)\//.test(f));

  it('finds the layered files of the slices', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('every file under application/, infrastructure/ and http/ is <name>.<role>.ts', () => {
    const bad = files.filter((f) => !ROLE.test(path.basename(f))).map((f) => path.relative(root, f));
    expect(bad).toEqual([]);
  });

  it('the rule refuses a file without a role', () => {
    expect(ROLE.test('load-engine.ts')).toBe(false);
    expect(ROLE.test('loadEngine.service.ts')).toBe(false);
    expect(ROLE.test('load.engine.ts')).toBe(true);
    expect(ROLE.test('run-ledger.sql.spec.ts')).toBe(true);
  });
});
