import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { assertReadableFile, fileChecksum, fsError, openBytes, resolveInRoot } from './input-file.util';

describe('reading inputs never crashes the process: every kind of bad input is a clear problem', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-input-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'no error';
  };

  it('a directory and a FIFO are not files; a vanished file is not found', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    expect(code(() => resolveInRoot(dir, 'sub'))).toBe('INGESTION.NOT_A_FILE');
    expect(code(() => resolveInRoot(dir, '.'))).toBe('INGESTION.NOT_A_FILE');
    expect(code(() => openBytes(path.join(dir, 'fifo')))).toBe('INGESTION.NOT_A_FILE');
    const gone = path.join(dir, 'gone.csv');
    fs.writeFileSync(gone, 'a\n');
    fs.rmSync(gone);
    expect(code(() => openBytes(gone))).toBe('INGESTION.FILE_NOT_FOUND');
    await expect(fileChecksum(path.join(dir, 'sub'))).rejects.toMatchObject({ code: 'INGESTION.NOT_A_FILE' });
    expect(code(() => assertReadableFile(gone))).toBe('INGESTION.FILE_NOT_FOUND');
  });

  it('maps file-system errors to problems (permission denied included, which root never meets)', () => {
    const err = (c: string) => Object.assign(new Error(c), { code: c });
    expect(
      [
        fsError(err('EACCES'), 'x'),
        fsError(err('EISDIR'), 'x'),
        fsError(err('ENOENT'), 'x'),
        fsError(err('EIO'), 'x'),
      ].map((e) => (e as { code?: string }).code),
    ).toEqual([
      'INGESTION.UNREADABLE_INPUT',
      'INGESTION.NOT_A_FILE',
      'INGESTION.FILE_NOT_FOUND',
      'INGESTION.UNREADABLE_INPUT',
    ]);
  });
});
