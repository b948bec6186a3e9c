import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import Busboy from 'busboy';

/** The `file` part of a multipart upload, as it streams in. */
export interface MultipartFile {
  stream: Readable;
  filename?: string;
  /** The form's other fields, once the whole request is read. */
  fields: Promise<Record<string, string>>;
}

/**
 * Reads a `multipart/form-data` request up to its `file` part and hands that part over as a stream
 * (one file; at most `maxBytes + 1` of it, so the caller can tell "too large"). Other fields are
 * collected. A malformed request rejects with `bad(message)`, a request without a `file` part with
 * `noFile()`: the caller's own problem codes.
 */
export function multipartFile(
  req: Readable & { headers: IncomingHttpHeaders },
  opts: { maxBytes: number; bad: (message: string) => Error; noFile: () => Error },
): Promise<MultipartFile> {
  return new Promise((resolve, reject) => {
    let bb: Busboy.Busboy;
    try {
      bb = Busboy({ headers: req.headers, limits: { files: 1, fileSize: opts.maxBytes + 1 } });
    } catch (e) {
      return reject(opts.bad(`Malformed multipart upload: ${(e as Error).message}`));
    }
    const fields: Record<string, string> = {};
    let found = false;
    let done!: (f: Record<string, string>) => void;
    let fail!: (e: Error) => void;
    const all = new Promise<Record<string, string>>((r, j) => {
      done = r;
      fail = j;
    });
    all.catch(() => undefined); // also reported through the file stream or the outer promise
    bb.on('field', (k, v) => (fields[k] = v));
    bb.on('file', (field, stream, info) => {
      if (field !== 'file' || found) return void stream.resume();
      found = true;
      // an error before the caller reads (a body cut off) stays on the stream for the caller, never unhandled
      stream.on('error', () => undefined);
      file = stream;
      resolve({ stream, filename: info.filename, fields: all });
    });
    let file: Readable | undefined;
    let failed = false;
    const failWith = (err: Error) => {
      if (failed) return;
      failed = true;
      file?.destroy(err);
      fail(err);
      reject(err);
    };
    bb.on('error', (e) => failWith(opts.bad(`Malformed multipart upload: ${(e as Error).message}`)));
    // a client that goes away mid-upload ends the reading (piping alone would wait forever)
    req.on('error', () => failWith(opts.bad('The upload was cut off: the client went away')));
    req.on('close', () => {
      if ((req as { complete?: boolean }).complete === false)
        failWith(opts.bad('The upload was cut off: the client went away'));
    });
    bb.on('close', () => {
      done(fields);
      if (!found) reject(opts.noFile());
    });
    req.pipe(bb);
  });
}
