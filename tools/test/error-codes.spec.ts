import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCodes, withErrorCodeTable } from '../src/docs/error-codes';
import { listTsFiles } from '../src/registry/scan';

const root = path.resolve(__dirname, '..', '..');

describe('error codes', () => {
  it("README's table is the one the slices' *.errors.ts files give (run `npm run docs:errors` after changing them)", () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(withErrorCodeTable(root, readme)).toBe(readme);
  });

  it('every error class in a *.errors.ts file has its code and kind in its TSDoc line, and no code is declared twice', () => {
    const documented = new Set(errorCodes(root).map((e) => e.code));
    for (const f of listTsFiles(path.join(root, 'libs')).filter((x) => x.endsWith('.errors.ts'))) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/super\('([A-Z]+\.[A-Z_]+)'/g))
        expect([path.basename(f), m[1], documented.has(m[1])]).toEqual([path.basename(f), m[1], true]);
    }
    expect(documented.size).toBeGreaterThan(100);
  });

  it('slices raise errors through their classes: no `new DomainError(` outside the errors files', () => {
    const offenders = [...listTsFiles(path.join(root, 'libs')), ...listTsFiles(path.join(root, 'apps'))]
      .filter((f) => !f.endsWith('.errors.ts') && !f.endsWith('.spec.ts') && !f.endsWith('domain-error.ts'))
      .filter((f) => /new DomainError\(/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(root, f));
    expect(offenders).toEqual([]);
  });
});
