import * as fs from 'node:fs';
import * as path from 'node:path';
import { listTsFiles } from '../src/registry/scan';

const root = path.resolve(__dirname, '..', '..');

describe('one way to configure', () => {
  it('no process.env outside the config files (<slice>.config.ts, platform weir-config.ts) and test support', () => {
    const offenders = listTsFiles(path.join(root, 'libs'))
      .filter(
        (f) =>
          !f.endsWith('.spec.ts') &&
          !f.endsWith('.config.ts') &&
          !f.endsWith('weir-config.ts') &&
          !f.includes(`${path.sep}testing${path.sep}`) &&
          !f.includes(`${path.sep}conformance${path.sep}`),
      )
      .filter((f) => /process\.env\b/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(root, f));
    expect(offenders).toEqual([]);
  });

  it('each slice with settings has its <slice>.config.ts with a token and a loader', () => {
    for (const slice of ['ingestion', 'quality', 'modeling', 'lineage']) {
      const text = fs.readFileSync(path.join(root, 'libs', slice, 'src', `${slice}.config.ts`), 'utf8');
      expect([slice, /export const [A-Z]+_CONFIG = Symbol\(/.test(text), /ConfigError/.test(text)]).toEqual([
        slice,
        true,
        true,
      ]);
    }
  });
});
