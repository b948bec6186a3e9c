import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../..');

/** A real process: a stream error nobody listens to (EISDIR on a directory) no longer ends it. */
describe('installSafetyNet', () => {
  const run = (body: string) =>
    execFileSync(
      process.execPath,
      [
        '-r',
        './tools/register.js',
        '-e',
        `const { installSafetyNet } = require('./libs/platform/src/lifecycle/safety-net.ts'); installSafetyNet({ error: (m) => console.log('ERROR ' + m.split('\\n')[0]), fatal: (m) => console.log('FATAL ' + m.split('\\n')[0]) }); ${body}`,
      ],
      { cwd: root, encoding: 'utf8' },
    );

  it('logs an unlistened stream error (EISDIR) and keeps the process alive', () => {
    const out = run(
      `require('node:fs').createReadStream('/').on('data', () => undefined); setTimeout(() => console.log('still serving'), 300);`,
    );
    expect(out).toMatch(/^ERROR an uncaught error EISDIR was not handled where it happened/m);
    expect(out).toContain('still serving');
  });

  it('exits on an error that is not an operating-system error', () => {
    let status = 0;
    let out = '';
    try {
      run(
        `setTimeout(() => { throw new TypeError('a bug'); }, 10); setTimeout(() => console.log('still serving'), 300);`,
      );
    } catch (e) {
      status = (e as { status: number }).status;
      out = String((e as { stdout: string }).stdout);
    }
    expect(status).toBe(1);
    expect(out).toMatch(/^FATAL uncaught error: TypeError: a bug/m);
    expect(out).not.toContain('still serving');
  });
});
