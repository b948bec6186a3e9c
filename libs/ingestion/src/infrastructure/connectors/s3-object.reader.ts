import { environmentVariable } from '@weir/platform';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { resolveSecret, S3Connector } from '../../domain/connector';
import type { SourceFormat, SourceOptions } from '../../domain/source';
import {
  FileNotFoundError,
  ObjectChangedError,
  SourceAccessDeniedError,
  SourceUnreachableError,
  UnreadableInputError,
} from '../../ingestion.errors';
import { openRecordStream } from '../readers/open-records.reader';
import { readParquet, readParquetBuffer } from '../readers/parquet.reader';
import type { ReaderBatch } from '../readers/record.types';
import type { StoredObject } from '../../domain/remote-connector';

const url = (bucket: string, key: string) => `s3://${bucket}/${key}`;
const unquote = (etag: string | undefined) => (etag ?? '').replace(/"/g, '');

/** The store's client; static credentials read from the environment (named, never shown, when unset). */
export function s3Client(c: S3Connector): { client: S3Client; secrets: string[] } {
  let accessKeyId: string | undefined;
  let secretAccessKey: string | undefined;
  let sessionToken: string | undefined;
  try {
    accessKeyId = resolveSecret(c.accessKeyId);
    secretAccessKey = resolveSecret(c.secretAccessKey);
    sessionToken = resolveSecret(c.sessionToken);
  } catch (e) {
    throw new SourceAccessDeniedError(`Cannot sign requests to the object store: ${(e as Error).message}`);
  }
  const client = new S3Client({
    region: c.region ?? environmentVariable('AWS_REGION') ?? 'us-east-1',
    endpoint: c.endpoint,
    forcePathStyle: c.forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined,
    maxAttempts: 4,
    // S3-compatible stores do not all know the newer checksum headers
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { client, secrets: [accessKeyId, secretAccessKey, sessionToken].filter((s): s is string => !!s) };
}

/** A store's error as the problem it is (credentials, a missing object or bucket, an unreachable store). */
export function s3Error(e: unknown, what: string, secrets: string[] = []): Error {
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  let msg = `${err.name ?? 'Error'}: ${err.message ?? String(e)}`;
  for (const s of secrets) msg = msg.split(s).join('***');
  msg = msg.slice(0, 1000);
  if (
    ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken', 'InvalidToken'].includes(
      err.name ?? '',
    ) ||
    status === 403 ||
    status === 401
  )
    return new SourceAccessDeniedError(`The object store refused the credentials for ${what} (${msg})`);
  if (err.name === 'NoSuchKey' || err.name === 'NotFound' || status === 404)
    return new FileNotFoundError(`${what} is gone (${err.name === 'NoSuchBucket' ? 'no such bucket' : 'not found'})`);
  if (err.name === 'NoSuchBucket') return new FileNotFoundError(`${what}: no such bucket`);
  return new SourceUnreachableError(`Cannot read ${what} from the object store: ${msg}`);
}

/** `*.csv.gz` → a RegExp on the part of a key after the prefix (`*` does not cross `/`). */
const glob = (g: string) =>
  new RegExp(
    `^${g
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );

/**
 * The objects under `prefix` whose name after it matches `pattern`, in key order, every page of
 * the listing (1,000 keys a page).
 */
export async function listObjects(
  c: S3Connector,
  bucket: string,
  prefix: string,
  pattern: string | undefined,
  signal?: AbortSignal,
): Promise<StoredObject[]> {
  const { client, secrets } = s3Client(c);
  const re = glob(pattern ?? '*');
  const out: StoredObject[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        { abortSignal: signal },
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || !re.test(o.Key.slice(prefix.length))) continue;
        out.push({ bucket, key: o.Key, etag: unquote(o.ETag), size: Number(o.Size ?? 0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (e) {
    throw s3Error(e, url(bucket, prefix), secrets);
  } finally {
    client.destroy();
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** One object's ETag and size (a run of one object named by hand). */
export async function statObject(c: S3Connector, bucket: string, key: string): Promise<StoredObject> {
  const { client, secrets } = s3Client(c);
  try {
    const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { bucket, key, etag: unquote(h.ETag), size: Number(h.ContentLength ?? 0), versionId: h.VersionId };
  } catch (e) {
    throw s3Error(e, url(bucket, key), secrets);
  } finally {
    client.destroy();
  }
}

/**
 * Reads one object as batches of records, streamed from its body into the format's parser (a
 * gzip body gunzipped on the way); Parquet by range requests. The object must still have the
 * ETag it was queued with (INGESTION.OBJECT_CHANGED otherwise); a vanished object fails the run
 * with INGESTION.FILE_NOT_FOUND.
 */
export async function openObject(
  c: S3Connector,
  obj: StoredObject,
  format: SourceFormat,
  options: SourceOptions,
  signal: AbortSignal,
): Promise<{ batches: AsyncIterable<ReaderBatch>; bytesRead: () => number; close: () => Promise<void> }> {
  const { client, secrets } = s3Client(c);
  const shown = url(obj.bucket, obj.key);
  let n = 0;
  const cleanups: (() => void)[] = [() => client.destroy()];
  const close = async () => {
    for (const f of cleanups.splice(0)) f();
  };
  const checkEtag = (etag: string | undefined) => {
    if (obj.etag && unquote(etag) !== obj.etag)
      throw new ObjectChangedError(
        `${shown} changed since its run was queued (ETag ${unquote(etag)}, queued ${obj.etag}): its new version is loaded by the next scheduled load`,
      );
  };
  try {
    if (format === 'parquet' && !obj.key.endsWith('.gz')) {
      // random access: hyparquet reads the footer, then each row group, by ranges
      const head = await client.send(
        new HeadObjectCommand({ Bucket: obj.bucket, Key: obj.key, VersionId: obj.versionId }),
      );
      checkEtag(head.ETag);
      const size = Number(head.ContentLength ?? 0);
      const buffer = {
        byteLength: size,
        slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
          const r = await client
            .send(
              new GetObjectCommand({
                Bucket: obj.bucket,
                Key: obj.key,
                VersionId: obj.versionId,
                Range: `bytes=${start}-${(end ?? size) - 1}`,
              }),
              { abortSignal: signal },
            )
            .catch((e) => {
              throw s3Error(e, shown, secrets);
            });
          const b = await r.Body!.transformToByteArray();
          n += b.length;
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        },
      };
      return { batches: readParquetBuffer(async () => buffer), bytesRead: () => n, close };
    }
    const got = await client.send(
      new GetObjectCommand({ Bucket: obj.bucket, Key: obj.key, VersionId: obj.versionId }),
      { abortSignal: signal },
    );
    checkEtag(got.ETag);
    const body = got.Body as Readable;
    body.on('error', () => undefined); // a dropped connection fails the parser's next read instead
    const counted = new Transform({
      transform(chunk: Buffer, _e, cb) {
        n += chunk.length;
        cb(null, chunk);
      },
    });
    body.on('error', (e) => counted.destroy(s3Error(e, shown, secrets)));
    body.pipe(counted);
    cleanups.push(() => body.destroy());
    if (format === 'parquet') {
      // a gzipped Parquet file needs random access after gunzip: the one case spooled to a temp file
      const tmp = path.join(os.tmpdir(), `weir-${randomBytes(6).toString('hex')}.parquet`);
      cleanups.push(() => fs.rmSync(tmp, { force: true }));
      try {
        await pipeline(counted, createGunzip(), fs.createWriteStream(tmp));
      } catch (e) {
        throw (e as { code?: string }).code?.startsWith('Z_')
          ? new UnreadableInputError(`gzip: ${(e as Error).message}`)
          : e;
      }
      return { batches: readParquet(tmp), bytesRead: () => n, close };
    }
    const opened = openRecordStream(counted, format, options);
    cleanups.push(opened.cleanup);
    return { batches: opened.batches, bytesRead: () => n, close };
  } catch (e) {
    await close();
    if (e instanceof ObjectChangedError || e instanceof UnreadableInputError) throw e;
    throw s3Error(e, shown, secrets);
  }
}
