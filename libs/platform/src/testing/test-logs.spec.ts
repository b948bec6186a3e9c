import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeLeaks, findLeaks, sensitiveForms, SensitiveValue } from './test-logs';

describe('test-logs: finding declared values in logs', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-test-logs-spec-'));
    fs.mkdirSync(path.join(dir, 'logs'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => fs.writeFileSync(path.join(dir, 'logs', '1.log'), text);
  const secret: SensitiveValue = { label: 'DB_PASSWORD', kind: 'secret', value: 'p@ss/w:rd?&=+% x9' };

  it('finds a value inside base64 text at any alignment (a Basic header), URL- and form-encoded, JSON-escaped', () => {
    const lines = [
      ...['', 'a', 'ab', 'abc'].map(
        (user) => `auth Basic ${Buffer.from(`${user}:${secret.value}`).toString('base64')}`,
      ),
      `url https://x/?p=${encodeURIComponent(secret.value)}`,
      `form p=${new URLSearchParams({ p: secret.value }).toString().slice(2)}`,
    ];
    for (const line of lines) {
      write(`{"msg":"before"}\n${line}\n`);
      const leaks = findLeaks([secret], dir);
      expect([line, leaks.length > 0]).toEqual([line, true]);
      expect(leaks[0].line).toBe(2);
    }
    const quoted: SensitiveValue = { label: 'TOKEN', kind: 'secret', value: 'quo"te\\back x9' };
    write(`${JSON.stringify({ msg: `token ${quoted.value}` })}\n`);
    expect(findLeaks([quoted], dir).map((l) => l.form)).toEqual(['json']);
  });

  it('names the leak by label, form, file and line; never prints the value', () => {
    write(`one\ntwo with ${secret.value} in it\n`);
    const leaks = findLeaks([secret], dir);
    expect(leaks).toMatchObject([
      { label: 'DB_PASSWORD', form: 'plain', line: 2, context: 'two with <DB_PASSWORD> in it' },
    ]);
    expect(describeLeaks(leaks)).not.toContain(secret.value);
  });

  it('finds nothing in logs without the value (nor a value too short to be told from chance)', () => {
    write('{"msg":"connecting to 127.0.0.1:5432/shop as weir"}\nAuthorization: [redacted]\n');
    expect(findLeaks([secret], dir)).toEqual([]);
    expect(sensitiveForms('abc').map((f) => f.form)).toEqual(['plain']);
  });
});
