import { checkRegistry, Finding } from '../src';
import { testServerUrl } from '@weir/platform/testing';
import { fixtureWorkspace } from './fixture-workspace';

async function check(overlay?: string): Promise<Finding[]> {
  const ws = fixtureWorkspace(overlay);
  try {
    return await checkRegistry({ root: ws.root, databaseUrl: testServerUrl() });
  } finally {
    ws.remove();
  }
}

const messages = (fs: Finding[]) => fs.map((f) => `[${f.check}] ${f.message}`).join('\n');

describe('registry check on fixture workspaces', () => {
  it('passes on the valid fixture', async () => {
    expect(messages(await check())).toBe('');
  });

  it.each([
    ['broken-unregistered-lib', 'libs', /libs\/reports is not registered/],
    [
      'broken-built-without-lib',
      'libs',
      /slice "ingestion" is registered as built with lib libs\/ingestion, but libs\/ingestion\/project\.json does not exist/,
    ],
    [
      'broken-entity-wrong-schema',
      'entities',
      /entity DatasetOrmEntity maps to schema "platform", but slice "catalog" owns schema "catalog"/,
    ],
    [
      'broken-entity-unlisted-table',
      'entities',
      /entity OwnerOrmEntity maps table "owners", which is not listed under slice "catalog"/,
    ],
    [
      'broken-table-without-migration',
      'migrations',
      /table catalog\.dataset_versions \(slice "catalog"\) is listed in DOMAIN_REGISTRY\.yaml but no migration creates it/,
    ],
    [
      'broken-drift',
      'migrations',
      /entities and migrations differ: a generated migration would not be empty[\s\S]*ALTER TABLE "catalog"\."datasets" ADD "owner" text/,
    ],
    [
      'broken-forbidden-import',
      'imports',
      /slice "platform" imports slice "catalog" \(libs\/platform\/src\/index\.ts\), but DOMAIN_REGISTRY\.yaml allows it to depend on: nothing/,
    ],
    ['broken-port-collision', 'ports', /"admin-ui" and "api-http" both use port 3000/],
    [
      'broken-unregistered-port',
      'ports',
      /apps\/api\/src\/metrics-server\.ts:4 .* uses port 9464, which is not in PORT_REGISTRY\.yaml/,
    ],
    [
      'broken-registry-cycle',
      'registry',
      /dependency cycle (platform -> catalog -> platform|catalog -> platform -> catalog)/,
    ],
    [
      'broken-unregistered-export',
      'barrels',
      /libs\/catalog\/src\/index\.ts:4 exports catalogInternals, which DOMAIN_REGISTRY\.yaml does not list for slice "catalog"/,
    ],
    [
      'broken-route-outside-prefix',
      'routes',
      /libs\/catalog\/src\/http\/datasets\.controller\.ts:3 serves \/api\/reports, outside slice "catalog"'s prefixes \(\/api\/catalog\)/,
    ],
    [
      'broken-unregistered-repository',
      'ports',
      /libs\/catalog\/src\/application\/ports\/dataset-store\.port\.ts declares port DATASET_STORE, which DOMAIN_REGISTRY\.yaml does not list for slice "catalog"/,
    ],
  ])('%s fails the %s check, naming the offender', async (overlay, checkName, pattern) => {
    const findings = await check(overlay);
    const relevant = findings.filter((f) => f.check === checkName);
    expect(relevant.length).toBeGreaterThan(0);
    expect(messages(relevant)).toMatch(pattern);
  });
});

describe('registry check on this repository', () => {
  it('passes (the same check `npm run registry:check` runs)', async () => {
    const root = require('node:path').resolve(__dirname, '..', '..');
    const findings = await checkRegistry({ root, databaseUrl: testServerUrl() });
    expect(messages(findings)).toBe('');
  }, 60_000);
});
