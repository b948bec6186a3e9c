import { Inject, Injectable, Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import { DomainError, multipartFile } from '@weir/platform';
import { INGESTION_CONFIG, IngestionConfig } from '../ingestion.config';
import { BadUploadError, EmptyUploadError, UploadTooLargeError } from '../ingestion.errors';

export interface StoredUpload {
  file: string;
  checksum: string;
  bytes: number;
  originalName?: string;
  fields: Record<string, string>;
}

/** Streams an HTTP upload (multipart `file` field, or the raw body) to disk: checksum, size limit, progress. */
@Injectable()
export class UploadsService {
  private readonly log = new Logger('ingestion');

  constructor(@Inject(INGESTION_CONFIG) private readonly cfg: IngestionConfig) {}

  async store(req: Request): Promise<StoredUpload> {
    fs.mkdirSync(this.cfg.uploadDir, { recursive: true });
    const file = path.join(this.cfg.uploadDir, randomUUID());
    const type = String(req.headers['content-type'] ?? '');
    try {
      if (type.startsWith('multipart/form-data')) return await this.multipart(req, file);
      const r = await this.write(req, file);
      return { ...r, file, fields: {} };
    } catch (e) {
      fs.rmSync(file, { force: true });
      throw e;
    }
  }

  private async write(input: Readable, file: string): Promise<{ checksum: string; bytes: number }> {
    const hash = createHash('sha256');
    let bytes = 0;
    let lastLog = Date.now();
    const max = this.cfg.uploadMaxBytes;
    const log = this.log;
    const meter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        bytes += chunk.length;
        if (bytes > max)
          return cb(
            new UploadTooLargeError(`The upload exceeds WEIR_UPLOAD_MAX_BYTES (${max} bytes)`, {
              limitBytes: max,
              setting: 'WEIR_UPLOAD_MAX_BYTES',
            }),
          );
        hash.update(chunk);
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log.log(`upload: ${(bytes / 1048576).toFixed(1)} MiB received`);
        }
        cb(null, chunk);
      },
    });
    // the file opened now, not when the stream gets to it: a refused upload's file is always there to delete
    const fd = fs.openSync(file, 'w');
    await pipeline(input, meter, fs.createWriteStream(file, { fd }));
    if (bytes === 0)
      throw new EmptyUploadError('The upload is empty: send the file as the body or as a multipart "file" field');
    return { checksum: hash.digest('hex'), bytes };
  }

  private async multipart(req: Request, file: string): Promise<StoredUpload> {
    const part = await multipartFile(req, {
      maxBytes: this.cfg.uploadMaxBytes,
      bad: (m) => new BadUploadError(m),
      noFile: () => new EmptyUploadError('The multipart upload has no "file" field'),
    });
    let stored: { checksum: string; bytes: number };
    try {
      stored = await this.write(part.stream, file);
    } catch (e) {
      if (e instanceof DomainError) throw e;
      await part.fields; // a request cut off or malformed rejects here with INGESTION.BAD_UPLOAD (400)
      throw e;
    }
    return { ...stored, file, originalName: part.filename, fields: await part.fields };
  }
}
