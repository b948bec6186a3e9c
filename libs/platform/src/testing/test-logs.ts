import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The test run's log sink. The jest global setup makes one folder per run and names it in
 * `WEIR_TEST_LOG_DIR`; every test process writes into it:
 *
 * - `logs/<pid>.log`: what the apps the specs start log (their pino destination, at every level),
 *   and what the process writes to stdout and stderr (see {@link captureProcessOutput});
 * - `sensitive.jsonl`: values a spec declared must never be logged (secrets, PII), one JSON line
 *   each, with a label to name them by.
 *
 * The global teardown greps every log for every declared value, as written, URL-encoded, in base64
 * (at any alignment) and JSON-escaped, and fails the run naming the label, the form, the file and
 * the line (never the value).
 */
export const TEST_LOG_DIR_ENV = 'WEIR_TEST_LOG_DIR';

export interface SensitiveValue {
  /** What it is (an environment variable's name, `pii:email`…), for the report. */
  label: string;
  kind: 'secret' | 'pii';
  value: string;
}

export interface Leak {
  label: string;
  kind: SensitiveValue['kind'];
  /** How it was written: `plain`, `url-encoded`, `form-encoded`, `base64`, `base64url`, `json`. */
  form: string;
  file: string;
  line: number;
  /** The line, the value replaced by `<label>`, cut to 300 characters. */
  context: string;
}

/** The run's log folder, or undefined outside a jest run with the global setup. */
export function testLogDir(): string | undefined {
  return process.env[TEST_LOG_DIR_ENV] || undefined;
}

function logFile(dir: string): string {
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  return path.join(logs, `${process.pid}.log`);
}

/**
 * A pino destination appending to this process's log of the run (synchronously, so nothing is
 * lost when the worker ends), or undefined when no run folder is set.
 */
export function testLogDestination(): { write(line: string): void } | undefined {
  const dir = testLogDir();
  if (!dir) return undefined;
  const file = logFile(dir);
  return { write: (line: string) => fs.appendFileSync(file, line) };
}

/** Declares values no log of this test run may hold (checked at the run's end, and by {@link findLeaks}). */
export function registerSensitive(kind: SensitiveValue['kind'], values: Record<string, string>): void {
  const dir = testLogDir();
  if (!dir) return;
  const lines = Object.entries(values)
    .filter(([, v]) => v.length >= 6) // shorter values match by chance
    .map(([label, value]) => JSON.stringify({ label, kind, value } satisfies SensitiveValue) + '\n');
  fs.appendFileSync(path.join(dir, 'sensitive.jsonl'), lines.join(''));
}

/**
 * The stretch of `base64(prefix + value)` that only the value's bytes determine, for a prefix of
 * 0, 1 and 2 bytes: a value inside a longer base64 text (`user:password` in a Basic header) shows
 * one of these three.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const from = Math.ceil((8 * shift) / 6);
    const to = Math.floor((8 * (shift + bytes.length)) / 6);
    if (to - from >= 8) out.push(b64.slice(from, to));
  }
  return out;
}

/** The forms a value may take in a log line, by name. */
export function sensitiveForms(value: string): { form: string; text: string }[] {
  const forms: { form: string; text: string }[] = [{ form: 'plain', text: value }];
  const add = (form: string, text: string) => {
    if (!forms.some((f) => f.text === text)) forms.push({ form, text });
  };
  add('url-encoded', encodeURIComponent(value));
  add('form-encoded', new URLSearchParams({ v: value }).toString().slice(2));
  add('json', JSON.stringify(value).slice(1, -1));
  for (const b of base64Forms(value)) {
    add('base64', b);
    add('base64url', b.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

/** The values declared so far in this run. */
export function sensitiveValues(dir = testLogDir()): SensitiveValue[] {
  if (!dir) return [];
  const file = path.join(dir, 'sensitive.jsonl');
  if (!fs.existsSync(file)) return [];
  const seen = new Set<string>();
  const out: SensitiveValue[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const v = JSON.parse(line) as SensitiveValue;
    if (seen.has(v.value)) continue;
    seen.add(v.value);
    out.push(v);
  }
  return out;
}

/** Every log file of the run so far. */
export function testLogFiles(dir = testLogDir()): string[] {
  if (!dir || !fs.existsSync(path.join(dir, 'logs'))) return [];
  return fs
    .readdirSync(path.join(dir, 'logs'))
    .filter((f) => f.endsWith('.log'))
    .map((f) => path.join(dir, 'logs', f));
}

/** Where the logs of the run hold any of `values` (default: every declared one), in any form. */
export function findLeaks(values: SensitiveValue[] = sensitiveValues(), dir = testLogDir()): Leak[] {
  const leaks: Leak[] = [];
  const forms = values.map((v) => ({ v, forms: sensitiveForms(v.value) }));
  for (const file of testLogFiles(dir)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const { v, forms: fs_ } of forms)
      for (const f of fs_) {
        const at = text.indexOf(f.text);
        if (at < 0) continue;
        const start = text.lastIndexOf('\n', at) + 1;
        const end = text.indexOf('\n', at);
        const line = text
          .slice(start, end < 0 ? undefined : end)
          .split(f.text)
          .join(`<${v.label}>`);
        leaks.push({
          label: v.label,
          kind: v.kind,
          form: f.form,
          file,
          line: text.slice(0, at).split('\n').length,
          context: line.length > 300 ? `${line.slice(0, 300)}…` : line,
        });
      }
  }
  return leaks;
}

/** A leak report, for an error message: labels, forms and places, never the values. */
export function describeLeaks(leaks: Leak[]): string {
  return leaks.map((l) => `${l.kind} ${l.label} (${l.form}) in ${l.file}:${l.line}: ${l.context}`).join('\n');
}

const CAPTURED = Symbol.for('weir.testLogs.captured');

/**
 * Copies what this process writes to stdout and stderr into its log of the run (a jest setup file
 * calls it for every spec): a line some code writes outside the apps' loggers (a library, Nest's
 * console logger) is grepped too. `console` in specs is left alone (the app's code may not use it:
 * lint), so jest still shows where a spec printed. Returns the function that undoes it.
 */
export function captureProcessOutput(): () => void {
  const dir = testLogDir();
  if (!dir) return () => undefined;
  const file = logFile(dir);
  const append = (chunk: unknown) => {
    try {
      fs.appendFileSync(file, typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : String(chunk));
    } catch {
      // the sink must never break a test
    }
  };
  const undo: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr] as (NodeJS.WriteStream & { [CAPTURED]?: boolean })[]) {
    if (stream[CAPTURED]) continue; // one copy per process
    const write = stream.write;
    stream[CAPTURED] = true;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      append(chunk);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    undo.push(() => {
      stream.write = write;
      delete stream[CAPTURED];
    });
  }
  return () => undo.forEach((u) => u());
}
