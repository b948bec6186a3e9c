import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { extractProjectArchive, maxTarBytes } from './project-archive.extractor';
import type { ArchiveLimits } from '../modeling.config';

type Entry = { name: string; body?: string | Buffer; type?: 'file' | 'directory' };

async function tar(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    if (e.type === 'directory') p.entry({ name: e.name, type: 'directory' });
    else p.entry({ name: e.name }, e.body ?? '');
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const limits = (l: Partial<ArchiveLimits> = {}): ArchiveLimits => ({
  maxBytes: 1024 * 1024,
  maxExtractedBytes: 64 * 1024,
  maxFiles: 10,
  ...l,
});

describe('extractProjectArchive: limits', () => {
  let root: string;
  let n = 0;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-archive-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const dest = () => path.join(root, `d${n++}`);
  const refusal = (archive: Buffer, l: ArchiveLimits) =>
    extractProjectArchive(archive, dest(), l).then(
      () => undefined,
      (e: unknown) => e,
    );

  it('extracts a project within the limits', async () => {
    const d = dest();
    const at = await extractProjectArchive(
      gzipSync(
        await tar([
          { name: 'p/', type: 'directory' },
          { name: 'p/dbt_project.yml', body: 'name: p\n' },
          { name: 'p/models/a.sql', body: 'select 1' },
        ]),
      ),
      d,
      limits(),
    );
    expect(at).toBe(path.join(d, 'p'));
    expect(fs.readFileSync(path.join(at, 'models', 'a.sql'), 'utf8')).toBe('select 1');
  });

  it('stops a gzip bomb once it inflates past the limit, without inflating the rest', async () => {
    // 64 MiB of zeros in a file: about 64 KiB of gzip
    const bomb = gzipSync(await tar([{ name: 'dbt_project.yml', body: Buffer.alloc(64 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const t0 = Date.now();
    const e = await refusal(bomb, limits());
    expect(e).toMatchObject({
      code: 'MODELING.ARCHIVE_EXTRACTS_TOO_LARGE',
      kind: 'too_large',
      extra: { limitBytes: 64 * 1024, setting: 'WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES' },
    });
    expect((e as Error).message).toMatch(
      /inflates to more than WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES \(65536 bytes\)/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('refuses files adding up to more than the extracted limit (a plain tar)', async () => {
    const big = await tar([
      { name: 'dbt_project.yml', body: 'name: p\n' },
      { name: 'a.csv', body: Buffer.alloc(40 * 1024, 97) },
      { name: 'b.csv', body: Buffer.alloc(40 * 1024, 98) },
    ]);
    const e = await refusal(big, limits());
    expect(e).toMatchObject({ code: 'MODELING.ARCHIVE_EXTRACTS_TOO_LARGE' });
    expect((e as Error).message).toMatch(/extracts to more than/);
  });

  it('refuses more entries (files and directories) than WEIR_PROJECT_ARCHIVE_MAX_FILES', async () => {
    const dirs = Array.from({ length: 11 }, (_, i): Entry => ({ name: `d${i}/`, type: 'directory' }));
    expect(await refusal(await tar([{ name: 'dbt_project.yml', body: 'name: p\n' }, ...dirs]), limits())).toMatchObject(
      {
        code: 'MODELING.ARCHIVE_TOO_MANY_FILES',
        kind: 'unprocessable',
        extra: { limit: 10, setting: 'WEIR_PROJECT_ARCHIVE_MAX_FILES' },
      },
    );
    const files = Array.from({ length: 10 }, (_, i): Entry => ({ name: `m${i}.sql`, body: 'select 1' }));
    expect(
      await refusal(await tar([{ name: 'dbt_project.yml', body: 'name: p\n' }, ...files]), limits()),
    ).toMatchObject({ code: 'MODELING.ARCHIVE_TOO_MANY_FILES' });
    // exactly at the limit: accepted
    expect(
      await refusal(await tar([{ name: 'dbt_project.yml', body: 'name: p\n' }, ...files.slice(1)]), limits()),
    ).toBe(undefined);
  });

  it('leaves room in the inflated tar for headers of as many entries as are allowed', () => {
    expect(maxTarBytes(limits())).toBe(64 * 1024 + 10 * 2048 + 1024 * 1024);
  });
});
