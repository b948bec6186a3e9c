import { environmentVariable } from '@weir/platform';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ExportCodec, ExportS3Options, ExportTarget } from '../domain/lake-export';
import type {
  ExportedFile,
  LakeTarget,
  LakeTargets,
  ParquetFileOptions,
  ParquetFileSink,
} from '../application/ports/lake-export.port';
import { ExportTargetError, ExportTargetRefusedError } from '../catalog.errors';
import { codecProblem, openParquetFile } from './parquet-file.writer';

/** A folder under the export root; files are written beside their final name and renamed into place. */
class LocalLakeTarget implements LakeTarget {
  constructor(private readonly dir: string) {}

  async clear(relDir: string): Promise<void> {
    await fs.promises.rm(path.join(this.dir, relDir), { recursive: true, force: true });
  }

  async open(relPath: string, options: ParquetFileOptions): Promise<ParquetFileSink> {
    const file = path.join(this.dir, relPath);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const w = await openParquetFile(tmp, relPath, options);
    return {
      append: (rows, from, to, skip) => w.append(rows, from, to, skip),
      close: async () => {
        const f = await w.close();
        await fs.promises.rename(tmp, file);
        return f;
      },
    };
  }

  async writeText(relPath: string, text: string): Promise<void> {
    const file = path.join(this.dir, relPath);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(`${file}.tmp`, text);
    await fs.promises.rename(`${file}.tmp`, file);
  }
}

const env = (ref?: { env: string }) => (ref ? environmentVariable(ref.env) : undefined);

/** An S3 prefix: each file is staged in a temporary folder, then put as one object. */
class S3LakeTarget implements LakeTarget {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly stage: string,
    /** The credentials' values: taken out of any message (a store may quote the request it refused). */
    private readonly secrets: string[],
  ) {}

  /** CATALOG.EXPORT_TARGET_FAILED with `message`, the credentials masked. */
  private failed(message: string): ExportTargetError {
    let m = message;
    for (const s of this.secrets) m = m.split(s).join('***');
    return new ExportTargetError(m);
  }

  private key(rel: string): string {
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  /** An S3 call; its failure as CATALOG.EXPORT_TARGET_FAILED (the service's message, never the credentials). */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.failed(`${what} s3://${this.bucket}/${this.key('')} failed: ${(e as Error).message}`);
    }
  }

  async clear(relDir: string): Promise<void> {
    const Prefix = `${this.key(relDir)}/`;
    let token: string | undefined;
    do {
      const r = await this.call('Listing', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken: token })),
      );
      const keys = (r.Contents ?? []).map((o) => ({ Key: o.Key as string }));
      if (keys.length) {
        const d = await this.call('Deleting under', () =>
          this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys } })),
        );
        if (d.Errors?.length)
          throw this.failed(
            `Deleting ${d.Errors.length} earlier object(s) under s3://${this.bucket}/${Prefix} failed: ${d.Errors[0].Key}: ${d.Errors[0].Message ?? d.Errors[0].Code}`,
          );
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  async open(relPath: string, options: ParquetFileOptions): Promise<ParquetFileSink> {
    const tmp = path.join(this.stage, `${Math.random().toString(36).slice(2)}.parquet`);
    const w = await openParquetFile(tmp, relPath, options);
    return {
      append: (rows, from, to, skip) => w.append(rows, from, to, skip),
      close: async (): Promise<ExportedFile> => {
        const f = await w.close();
        try {
          await this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: this.key(relPath),
              Body: fs.createReadStream(tmp),
              ContentLength: f.bytes,
              ContentType: 'application/vnd.apache.parquet',
            }),
          );
        } catch (e) {
          throw this.failed(`Writing s3://${this.bucket}/${this.key(relPath)} failed: ${(e as Error).message}`);
        } finally {
          await fs.promises.rm(tmp, { force: true });
        }
        return f;
      },
    };
  }

  async writeText(relPath: string, text: string): Promise<void> {
    await this.call('Writing to', () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(relPath),
          Body: text,
          ContentType: 'application/json',
        }),
      ),
    );
  }
}

/** LAKE_TARGETS: local folders (already confined to the export root by the caller) and S3 prefixes. */
export class FileLakeTargets implements LakeTargets {
  constructor(private readonly root: string) {}

  codecProblem(codec: ExportCodec): Promise<string | undefined> {
    return codecProblem(codec);
  }

  async open(target: ExportTarget, s3: ExportS3Options = {}): Promise<LakeTarget> {
    if (target.kind === 'local') {
      // a symbolic link on the way must not lead out of the root either
      await fs.promises.mkdir(this.root, { recursive: true });
      const root = await fs.promises.realpath(this.root);
      let probe = target.dir;
      while (!fs.existsSync(probe)) probe = path.dirname(probe);
      const real = await fs.promises.realpath(probe);
      if (real !== root && !real.startsWith(`${root}${path.sep}`))
        throw new ExportTargetRefusedError(`${target.dir} leads outside the export root (${this.root})`);
      await fs.promises.mkdir(target.dir, { recursive: true });
      return new LocalLakeTarget(target.dir);
    }
    const accessKeyId = env(s3.accessKeyId);
    const secretAccessKey = env(s3.secretAccessKey);
    for (const [k, ref] of Object.entries({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }))
      if (ref && !environmentVariable(ref.env))
        throw new ExportTargetError(`s3.${k}: the environment variable ${ref.env} is not set`);
    const sessionToken = env(s3.sessionToken);
    const client = new S3Client({
      region: s3.region ?? environmentVariable('AWS_REGION') ?? 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: s3.forcePathStyle,
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined,
      maxAttempts: 4,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const stage = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'weir-export-'));
    const secrets = [accessKeyId, secretAccessKey, sessionToken].filter((v): v is string => !!v);
    return new S3LakeTarget(client, target.bucket, target.prefix, stage, secrets);
  }
}
