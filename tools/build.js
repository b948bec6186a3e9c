#!/usr/bin/env node
// Compiles the TypeScript of apps/, libs/ and migrations/ to dist/ with swc (no type check: `npm run
// typecheck` does that), rewriting the @weir/* aliases to relative paths, so the service runs as
// plain JavaScript without a compiler in the process. Only files newer than their output are
// rebuilt. Usage: node tools/build.js [--quiet]
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist');
const quiet = process.argv.includes('--quiet');
const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const paths = Object.fromEntries(
  Object.entries(tsconfig.compilerOptions.paths).map(([k, v]) => [k, v.map((p) => p.replace(/^\.\//, ''))]),
);

function walk(dir, acc) {
  if (!fs.existsSync(dir)) return acc;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'fixtures' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, acc);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !/\.(spec|test)\.ts$/.test(e.name)) acc.push(p);
  }
  return acc;
}

const files = [
  ...walk(path.join(root, 'apps'), []),
  ...walk(path.join(root, 'libs'), []),
  ...walk(path.join(root, 'migrations'), []),
].filter((f) => !f.includes(`${path.sep}test${path.sep}`));
const started = Date.now();
let built = 0;
for (const file of files) {
  const rel = path.relative(root, file);
  const target = path.join(out, rel.replace(/\.ts$/, '.js'));
  if (fs.existsSync(target) && fs.statSync(target).mtimeMs >= fs.statSync(file).mtimeMs) continue;
  const { code, map } = swc.transformFileSync(file, {
    filename: file,
    swcrc: false,
    sourceMaps: true,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
      baseUrl: root,
      paths,
    },
    module: { type: 'commonjs' },
  });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, `${code}\n//# sourceMappingURL=${path.basename(target)}.map\n`);
  fs.writeFileSync(`${target}.map`, map);
  built++;
}
// outputs whose source is gone would still be loaded by globs (migrations): remove them
const sources = new Set(files.map((f) => path.join(out, path.relative(root, f)).replace(/\.ts$/, '.js')));
(function prune(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) prune(p);
    else if (e.name.endsWith('.js') && !sources.has(p)) {
      fs.rmSync(p);
      fs.rmSync(`${p}.map`, { force: true });
    }
  }
})(out);
if (!quiet || built > 0)
  process.stderr.write(`build: ${built} of ${files.length} files compiled to dist/ in ${Date.now() - started} ms\n`);
