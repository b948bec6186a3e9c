import { PassThrough, Readable } from 'node:stream';
import { multipartFile } from './multipart.parser';

const B = 'XyZ';
const part = (name: string, body: string, filename?: string) =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n${filename ? 'Content-Type: text/csv\r\n' : ''}\r\n${body}\r\n`;
const request = (body: string, type = `multipart/form-data; boundary=${B}`) =>
  Object.assign(Readable.from([Buffer.from(body)]), { headers: { 'content-type': type } });
const opts = { maxBytes: 1000, bad: (m: string) => new Error(`bad: ${m}`), noFile: () => new Error('no file') };
const text = async (r: Readable) => {
  let s = '';
  for await (const c of r) s += c;
  return s;
};

describe('multipartFile (busboy)', () => {
  it('hands over the file part as a stream, with its name and the other fields, before and after it', async () => {
    const f = await multipartFile(
      request(part('note', 'hi') + part('file', 'id,name\n1,a\n', 'a.csv') + part('key', 'k1') + `--${B}--\r\n`),
      opts,
    );
    expect(f.filename).toBe('a.csv');
    expect(await text(f.stream)).toBe('id,name\n1,a\n');
    expect(await f.fields).toEqual({ note: 'hi', key: 'k1' });
  });

  it("refuses a request without a file part, and a malformed one, with the caller's errors", async () => {
    await expect(multipartFile(request(part('note', 'hi') + `--${B}--\r\n`), opts)).rejects.toThrow('no file');
    await expect(multipartFile(request('whatever', 'multipart/form-data'), opts)).rejects.toThrow(
      /^bad: Malformed multipart upload/,
    );
  });

  it('a body cut off inside the file part ends the stream with an error and rejects the fields', async () => {
    const f = await multipartFile(
      request(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nid,na`),
      opts,
    );
    await expect(text(f.stream)).rejects.toThrow();
    await expect(f.fields).rejects.toThrow(/^bad: Malformed multipart upload/);
  });

  it('a client going away mid-upload fails the file stream and the fields instead of leaving them waiting', async () => {
    const req = Object.assign(new PassThrough(), {
      headers: { 'content-type': `multipart/form-data; boundary=${B}` },
      complete: false,
    });
    req.write(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nid,`);
    const f = await multipartFile(req, opts);
    const read = text(f.stream);
    req.emit('close');
    await expect(read).rejects.toThrow('bad: The upload was cut off: the client went away');
    await expect(f.fields).rejects.toThrow('client went away');
  });
});
