import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@weir/platform';
import {
  FileNotFoundError,
  InvalidPathError,
  NotADirectoryError,
  NotAFileError,
  PathOutsideRootError,
  UnreadableInputError,
} from '../ingestion.errors';

/**
 * Resolves a path given by a user inside the ingest root; refuses `..` escapes and symlinks out of
 * it, and (unless `kind` is `dir`) anything that is not a readable file.
 */
export function resolveInRoot(root: string, given: string, kind: 'file' | 'dir' = 'file'): string {
  if (typeof given !== 'string' || given.trim() === '' || given.includes('\0')) {
    throw new InvalidPathError('A path is required');
  }
  fs.mkdirSync(root, { recursive: true });
  const realRoot = fs.realpathSync(root);
  const candidate = path.resolve(realRoot, given);
  const rel = path.relative(realRoot, candidate);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new PathOutsideRootError(`The path ${JSON.stringify(given)} is outside the ingest root (WEIR_INGEST_ROOT)`);
  }
  if (!fs.existsSync(candidate)) throw new FileNotFoundError(`No file ${JSON.stringify(given)} in the ingest root`);
  const real = fs.realpathSync(candidate);
  const realRel = path.relative(realRoot, real);
  if (realRel.startsWith('..') || path.isAbsolute(realRel)) {
    throw new PathOutsideRootError(`The path ${JSON.stringify(given)} is a link to a place outside the ingest root`);
  }
  if (kind === 'file') assertReadableFile(real, given);
  else if (!fs.statSync(real).isDirectory())
    throw new NotADirectoryError(`${JSON.stringify(given)} is not a directory`);
  return real;
}

/**
 * Refuses, with a clear 4xx, what cannot be read as a file: a directory, a FIFO, a socket or a
 * device (INGESTION.NOT_A_FILE: reading a FIFO would wait forever), a file gone meanwhile
 * (INGESTION.FILE_NOT_FOUND), one Weir may not read (INGESTION.UNREADABLE_INPUT).
 */
export function assertReadableFile(file: string, shown: string = file): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw fsError(e, shown);
  }
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device';
    throw new NotAFileError(`${JSON.stringify(shown)} is ${kind}, not a file`);
  }
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    throw fsError(e, shown);
  }
}

/** A file-system error as the problem it is for the caller (never a 500, never a crash). */
export function fsError(e: unknown, shown: string): Error {
  const code = (e as { code?: string }).code;
  if (e instanceof DomainError) return e;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new FileNotFoundError(`No file ${JSON.stringify(shown)} (it is gone)`);
  if (code === 'EISDIR') return new NotAFileError(`${JSON.stringify(shown)} is a directory, not a file`);
  if (code === 'EACCES' || code === 'EPERM')
    return new UnreadableInputError(`Weir may not read ${JSON.stringify(shown)} (permission denied)`);
  if (code) return new UnreadableInputError(`${JSON.stringify(shown)} cannot be read (${code})`);
  return e as Error;
}

/** SHA-256 and size of a file, streamed. */
export async function fileChecksum(file: string): Promise<{ checksum: string; bytes: number }> {
  assertReadableFile(file);
  const h = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (e) {
    throw fsError(e, file);
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
  assertReadableFile(file);
  let gzip: boolean;
  try {
    gzip = isGzipFile(file);
  } catch (e) {
    throw fsError(e, file);
  }
  let n = 0;
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 16 });
  raw.on('data', (c) => (n += (c as Buffer).length));
  // (the stream is made only once the file is known readable: nothing above may throw with it open
  // and unlistened; a later read error reaches the reader's own error handling)
  if (!gzip) return { stream: raw, bytesRead: () => n };
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  pipeline(raw, createGunzip(), out).catch((e) =>
    out.destroy(
      (e as { code?: string }).code?.startsWith('Z_')
        ? new UnreadableInputError(`gzip: ${(e as Error).message}`)
        : fsError(e, file),
    ),
  );
  return { stream: out, bytesRead: () => n };
}

/**
 * A byte stream gunzipped when it starts with gzip's magic bytes (an object's body: its name may
 * not say), passed through otherwise; a corrupt gzip fails it with INGESTION.UNREADABLE_INPUT.
 */
export function gunzipIfGzipped(src: Readable): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let head = Buffer.alloc(0);
    let done = false;
    while (head.length < 2 && !done) {
      const n = await it.next();
      if (n.done) done = true;
      else head = Buffer.concat([head, Buffer.from(n.value)]);
    }
    async function* all(): AsyncGenerator<Buffer> {
      if (head.length) yield head;
      while (!done) {
        const n = await it.next();
        if (n.done) return;
        yield Buffer.from(n.value);
      }
    }
    if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
      yield* all();
      return;
    }
    const gunzip = createGunzip();
    const input = Readable.from(all());
    input.on('error', (e) => gunzip.destroy(e));
    input.pipe(gunzip);
    try {
      for await (const c of gunzip) yield c as Buffer;
    } catch (e) {
      throw (e as { code?: string }).code?.startsWith('Z_')
        ? new UnreadableInputError(`gzip: ${(e as Error).message}`)
        : e;
    }
  }
  return Readable.from(bytes(), { objectMode: false, highWaterMark: 1 << 16 });
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
  assertReadableFile(file);
  if (!isGzipFile(file)) return { file, cleanup: () => undefined };
  const tmp = path.join(os.tmpdir(), `weir-${randomBytes(6).toString('hex')}.parquet`);
  try {
    await pipeline(fs.createReadStream(file), createGunzip(), fs.createWriteStream(tmp));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw (e as { code?: string }).code?.startsWith('Z_')
      ? new UnreadableInputError(`gzip: ${(e as Error).message}`)
      : fsError(e, file);
  }
  return { file: tmp, cleanup: () => fs.rmSync(tmp, { force: true }) };
}
