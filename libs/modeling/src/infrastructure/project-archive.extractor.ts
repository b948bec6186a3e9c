import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import type { IncomingHttpHeaders } from 'node:http';
import { extract } from 'tar-stream';
import { DomainError, multipartFile } from '@weir/platform';
import {
  ArchiveExtractsTooLargeError,
  ArchiveTooLargeError,
  ArchiveTooManyFilesError,
  BadArchiveError,
} from '../modeling.errors';

import type { ArchiveLimits } from '../modeling.config';
export type { ArchiveLimits };

const badArchive = (msg: string) => new BadArchiveError(msg);

/** Reads a project archive from a request: the raw body, or the multipart `file` field. Bounded by `maxBytes`. */
export async function readArchiveBody(
  req: Readable & { headers: IncomingHttpHeaders },
  maxBytes: number,
): Promise<Buffer> {
  const type = String(req.headers['content-type'] ?? '');
  const source: Readable = type.startsWith('multipart/form-data')
    ? (
        await multipartFile(req, {
          maxBytes,
          bad: badArchive,
          noFile: () => badArchive('The multipart upload has no "file" field'),
        })
      ).stream
    : req;
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    // past the limit the rest is read and dropped (up to 4x, then the connection is cut), so the client gets its 413
    for await (const chunk of source) {
      bytes += (chunk as Buffer).length;
      if (bytes > maxBytes * 4) break;
      if (bytes <= maxBytes) chunks.push(chunk as Buffer);
    }
  } catch (e) {
    throw badArchive(`The upload was cut off or malformed: ${(e as Error).message}`);
  }
  if (bytes > maxBytes)
    throw new ArchiveTooLargeError(`The project archive exceeds WEIR_PROJECT_ARCHIVE_MAX_BYTES (${maxBytes} bytes)`, {
      limitBytes: maxBytes,
      setting: 'WEIR_PROJECT_ARCHIVE_MAX_BYTES',
    });
  if (bytes === 0)
    throw badArchive(
      'The request has no archive: send a .tar or .tar.gz as the body (Content-Type application/gzip or application/x-tar) or as a multipart "file" field',
    );
  return Buffer.concat(chunks);
}

const extractsTooLarge = (limits: ArchiveLimits, what: string) =>
  new ArchiveExtractsTooLargeError(
    `The project archive ${what} more than WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES (${limits.maxExtractedBytes} bytes)`,
    { limitBytes: limits.maxExtractedBytes, setting: 'WEIR_PROJECT_ARCHIVE_MAX_EXTRACTED_BYTES' },
  );

/**
 * The most a tar within the limits can take once inflated: the files' bytes, plus a header and
 * padding (and room for a long name's extra header) per entry, plus the end-of-archive blocks.
 */
export function maxTarBytes(limits: ArchiveLimits): number {
  return limits.maxExtractedBytes + limits.maxFiles * 2048 + 1024 * 1024;
}

/**
 * Extracts a tar or gzip-compressed tar into `dest` (which must not exist). Only regular files and
 * directories; absolute paths, `..` segments, links and devices are refused (`MODELING.BAD_ARCHIVE`),
 * as are archives over the limits: more than `maxFiles` entries (files and directories,
 * `MODELING.ARCHIVE_TOO_MANY_FILES`), files adding up to more than `maxExtractedBytes`, or a gzip
 * stream inflating past what such a tar can take (a gzip bomb: stopped there, never inflated in
 * full; both `MODELING.ARCHIVE_EXTRACTS_TOO_LARGE`). Returns the project root inside `dest`:
 * `dest` itself, or its only top-level directory when `dbt_project.yml` lives there (as
 * `tar czf p.tgz my_project/` produces).
 */
export async function extractProjectArchive(archive: Buffer, dest: string, limits: ArchiveLimits): Promise<string> {
  let tarBytes: Buffer = archive;
  if (archive[0] === 0x1f && archive[1] === 0x8b) {
    try {
      tarBytes = gunzipSync(archive, { maxOutputLength: maxTarBytes(limits) });
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw extractsTooLarge(limits, 'inflates to');
      throw badArchive(`The archive is not valid gzip: ${(e as Error).message}`);
    }
  } else if (archive[0] === 0x50 && archive[1] === 0x4b) {
    throw badArchive('Zip archives are not supported: send a .tar or .tar.gz (e.g. `tar czf project.tgz -C <dir> .`)');
  }
  if (tarBytes.length < 512 || tarBytes.subarray(257, 262).toString('latin1') !== 'ustar') {
    throw badArchive('The body is not a tar archive (optionally gzip-compressed)');
  }
  fs.mkdirSync(dest, { recursive: false });
  const ex = extract();
  Readable.from([tarBytes]).pipe(ex);
  let files = 0;
  let total = 0;
  try {
    for await (const entry of ex) {
      entry.on('error', () => undefined); // surfaced by the iterator
      const header = entry.header;
      const name = header.name.replace(/\\/g, '/');
      const parts = name.split('/').filter((s) => s !== '' && s !== '.');
      if (name.startsWith('/') || /^[a-zA-Z]:/.test(name) || parts.includes('..'))
        throw badArchive(`Unsafe path in archive: ${JSON.stringify(header.name)}`);
      if (header.type === 'directory' || header.type === 'file' || header.type === 'contiguous-file')
        if (++files > limits.maxFiles)
          throw new ArchiveTooManyFilesError(
            `The project archive holds more than WEIR_PROJECT_ARCHIVE_MAX_FILES (${limits.maxFiles}) files and directories`,
            { limit: limits.maxFiles, setting: 'WEIR_PROJECT_ARCHIVE_MAX_FILES' },
          );
      if (header.type === 'directory') {
        if (parts.length) fs.mkdirSync(path.join(dest, ...parts), { recursive: true });
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file')
        throw badArchive(
          `Archive entry ${JSON.stringify(header.name)} is a ${header.type}: only files and directories are accepted`,
        );
      if (!parts.length) throw badArchive('Archive entry with an empty name');
      total += header.size ?? 0;
      if (total > limits.maxExtractedBytes) throw extractsTooLarge(limits, 'extracts to');
      const file = path.join(dest, ...parts);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      try {
        await pipeline(entry, fs.createWriteStream(file, { flags: 'wx' }));
      } catch (e) {
        throw badArchive(`Cannot extract ${JSON.stringify(header.name)}: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    ex.destroy();
    if (e instanceof DomainError) throw e;
    throw badArchive(`The tar archive is malformed: ${(e as Error).message}`);
  }
  if (fs.existsSync(path.join(dest, 'dbt_project.yml'))) return dest;
  const top = fs.readdirSync(dest, { withFileTypes: true });
  if (top.length === 1 && top[0].isDirectory() && fs.existsSync(path.join(dest, top[0].name, 'dbt_project.yml')))
    return path.join(dest, top[0].name);
  throw badArchive('The archive has no dbt_project.yml at its root (or in its only top-level directory)');
}
