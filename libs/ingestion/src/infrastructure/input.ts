import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@weir/platform';

/** Resolves a path given by a user inside the ingest root; refuses `..` escapes and symlinks out of it. */
export function resolveInRoot(root: string, given: string): string {
  if (typeof given !== 'string' || given.trim() === '' || given.includes('\0')) {
    throw new DomainError('INGESTION.INVALID_PATH', 'A path is required', 400);
  }
  fs.mkdirSync(root, { recursive: true });
  const realRoot = fs.realpathSync(root);
  const candidate = path.resolve(realRoot, given);
  const rel = path.relative(realRoot, candidate);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new DomainError('INGESTION.PATH_OUTSIDE_ROOT', `The path ${JSON.stringify(given)} is outside the ingest root (WEIR_INGEST_ROOT)`, 400);
  }
  if (!fs.existsSync(candidate)) throw new DomainError('INGESTION.FILE_NOT_FOUND', `No file ${JSON.stringify(given)} in the ingest root`, 404);
  const real = fs.realpathSync(candidate);
  const realRel = path.relative(realRoot, real);
  if (realRel.startsWith('..') || path.isAbsolute(realRel)) {
    throw new DomainError('INGESTION.PATH_OUTSIDE_ROOT', `The path ${JSON.stringify(given)} is a link to a place outside the ingest root`, 400);
  }
  return real;
}

/** SHA-256 and size of a file, streamed. */
export async function fileChecksum(file: string): Promise<{ checksum: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { checksum: h.digest('hex'), bytes };
}

export function isGzipFile(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens a file as a byte stream, gunzipping `.gz` content (by magic bytes); counts the file bytes read. */
export function openBytes(file: string): { stream: Readable; bytesRead: () => number } {
  let n = 0;
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 16 });
  raw.on('data', (c) => (n += (c as Buffer).length));
  if (!isGzipFile(file)) return { stream: raw, bytesRead: () => n };
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  pipeline(raw, createGunzip(), out).catch((e) => out.destroy(new DomainError('INGESTION.UNREADABLE_INPUT', `gzip: ${(e as Error).message}`, 400)));
  return { stream: out, bytesRead: () => n };
}

/**
 * Decodes bytes to text (UTF-8 through the WHATWG TextDecoder, which keeps characters split across
 * chunks and is faster than StringDecoder here; or Latin-1) and drops a leading BOM.
 */
export function decodeText(bytes: Readable, encoding: 'utf8' | 'latin1' = 'utf8'): Readable {
  const utf8 = encoding === 'utf8' ? new TextDecoder('utf-8', { ignoreBOM: true }) : undefined;
  let first = true;
  const t = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, cb) {
      let s = utf8 ? utf8.decode(chunk, { stream: true }) : chunk.toString('latin1');
      if (first && s.length > 0) {
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        first = false;
      }
      cb(null, s.length > 0 ? s : undefined);
    },
    flush(cb) {
      const s = utf8 ? utf8.decode() : '';
      cb(null, s.length > 0 ? s : undefined);
    },
  });
  bytes.on('error', (e) => t.destroy(e));
  return bytes.pipe(t);
}

/** Gunzips a `.gz` file to a temp file (Parquet needs random access); returns the path to read and a cleanup. */
export async function materialize(file: string): Promise<{ file: string; cleanup: () => void }> {
  if (!isGzipFile(file)) return { file, cleanup: () => undefined };
  const tmp = path.join(os.tmpdir(), `weir-${randomBytes(6).toString('hex')}.parquet`);
  await pipeline(fs.createReadStream(file), createGunzip(), fs.createWriteStream(tmp));
  return { file: tmp, cleanup: () => fs.rmSync(tmp, { force: true }) };
}
