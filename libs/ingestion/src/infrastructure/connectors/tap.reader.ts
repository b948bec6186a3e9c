import { processEnvironment } from '@weir/platform';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { DatasetContract } from '@weir/catalog';
import { resolveSecret, TapConnector } from '../../domain/connector';
import { TapFailedError, TapNotAllowedError, TapSchemaMismatchError } from '../../ingestion.errors';
import type { RawRecord, ReaderBatch, Unparseable } from '../readers/record.types';

/** What a tap read reports besides its records. */
export interface TapRead {
  batches: AsyncIterable<ReaderBatch>;
  /** The checkpoint to store after a successful load: the last STATE seen (JSON), or null when none came. */
  checkpoint: () => string | null;
  /** Records of other streams, skipped (by stream). */
  skipped: Record<string, number>;
  description: string;
  close: () => Promise<void>;
}

export interface TapOptions {
  tapRoot: string;
  /** The stored checkpoint (the state file's content), or null for a first run. */
  watermark: string | null;
  contract: DatasetContract;
  /** drift evolve: SCHEMA properties beyond the contract are fine (records add them as columns). */
  signal: AbortSignal;
  log?: (level: 'info' | 'warn', message: string) => void;
  env?: NodeJS.ProcessEnv;
}

const STDERR_TAIL = 4096;

/** `p` resolved inside `root`, or TAP_NOT_ALLOWED (an operator puts taps, or links to them, there). */
export function insideRoot(root: string, p: string, what: string): string {
  const abs = path.resolve(root, p);
  if (abs !== root && !abs.startsWith(root + path.sep))
    throw new TapNotAllowedError(`The tap's ${what} must be inside WEIR_TAP_ROOT (${root}): ${p}`);
  return abs;
}

/** Airbyte state: per-stream states keyed by their descriptor, a global one, or a legacy blob. */
type AirbyteState = Record<string, unknown>;

/**
 * Runs a Singer tap (or an Airbyte source with `protocol: airbyte`) and reads its stdout, one
 * JSON message a line. RECORDs of the source's stream become records (other streams are counted
 * and skipped); SCHEMA of that stream is checked against the contract (its required columns must
 * be properties); STATE is remembered, and the last one seen becomes the checkpoint once the load
 * publishes. The tap gets `--state` with the stored checkpoint; a tap exiting non-zero fails the
 * read with the tail of its stderr (secret values masked). The tap's environment is PATH, HOME,
 * LANG and the connector's `env` references only: none of Weir's own.
 */
export async function openTap(c: TapConnector, o: TapOptions): Promise<TapRead> {
  const env = o.env ?? processEnvironment();
  const protocol = c.protocol ?? 'singer';
  const command = insideRoot(o.tapRoot, c.command, 'command');
  const configPath = insideRoot(o.tapRoot, c.config, 'config');
  const catalogPath = c.catalog ? insideRoot(o.tapRoot, c.catalog, 'catalog') : undefined;
  if (!fs.existsSync(command)) throw new TapNotAllowedError(`The tap's command does not exist: ${c.command}`);
  const secretValues: string[] = [];
  const secret = (ref: { env: string }) => {
    const v = resolveSecret(ref, (n) => env[n])!;
    if (v.length >= 4) secretValues.push(v);
    return v;
  };
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new TapFailedError(`The tap's config ${c.config} is not readable JSON: ${(e as Error).message}`);
  }
  for (const [k, ref] of Object.entries(c.secrets ?? {})) config[k] = secret(ref);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-tap-'));
  fs.chmodSync(tmp, 0o700);
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  const cfgFile = path.join(tmp, 'config.json');
  fs.writeFileSync(cfgFile, JSON.stringify(config), { mode: 0o600 });
  const args = [...(c.args ?? [])];
  if (protocol === 'airbyte') args.push('read');
  args.push('--config', cfgFile);
  if (catalogPath) args.push('--catalog', catalogPath);
  if (o.watermark !== null) {
    const stateFile = path.join(tmp, 'state.json');
    fs.writeFileSync(stateFile, o.watermark, { mode: 0o600 });
    args.push('--state', stateFile);
  }
  const childEnv: NodeJS.ProcessEnv = { PATH: env['PATH'], HOME: env['HOME'], LANG: env['LANG'] ?? 'C.UTF-8' };
  for (const [k, ref] of Object.entries(c.env ?? {})) childEnv[k] = secret(ref);
  const mask = (s: string) => secretValues.reduce((acc, v) => acc.split(v).join('***'), s);

  const child = spawn(command, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], cwd: tmp });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 2000).unref();
    }
  };
  o.signal.addEventListener('abort', kill, { once: true });

  let singerState: unknown;
  let sawState = false;
  const airbyteStates = new Map<string, AirbyteState>();
  let airbyteLegacy: unknown;
  let traceError: string | undefined;
  const skipped: Record<string, number> = {};
  const batchSize = c.batchRecords ?? 5000;

  const checkSchema = (schema: unknown, keys: unknown) => {
    const props = (schema as { properties?: Record<string, unknown> } | null)?.properties ?? {};
    const missing = o.contract.columns.filter((col) => !col.nullable && !(col.name in props)).map((col) => col.name);
    if (missing.length)
      throw new TapSchemaMismatchError(
        `The tap's SCHEMA of stream "${c.stream}" lacks the required contract columns ${missing.join(', ')}; nothing was published`,
        { missing },
      );
    const extra = Object.keys(props).filter((p) => !o.contract.columns.some((col) => col.name === p));
    if (extra.length)
      o.log?.(
        'info',
        `tap stream ${c.stream}: properties beyond the contract: ${extra.join(', ')} (the drift policy decides)`,
      );
    if (Array.isArray(keys) && keys.length) {
      const pk = o.contract.columns.filter((col) => col.primaryKey).map((col) => col.name);
      if (pk.join(',') !== keys.join(','))
        o.log?.(
          'warn',
          `tap stream ${c.stream}: key_properties ${keys.join(', ')} differ from the contract key ${pk.join(', ')}`,
        );
    }
  };

  async function* batches(): AsyncGenerator<ReaderBatch> {
    const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    let records: (RawRecord | Unparseable)[] = [];
    let line = 0;
    try {
      for await (const text of rl) {
        line++;
        if (!text.trim()) continue;
        let m: Record<string, unknown>;
        try {
          m = JSON.parse(text) as Record<string, unknown>;
          if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error('not a message object');
        } catch (e) {
          records.push({
            unparseable: true,
            text: text.slice(0, 10_000),
            message: `stdout line ${line}: ${(e as Error).message}`,
          });
          continue;
        }
        if (protocol === 'singer') {
          if (m['type'] === 'RECORD') {
            if (m['stream'] !== c.stream) skipped[String(m['stream'])] = (skipped[String(m['stream'])] ?? 0) + 1;
            else if (typeof m['record'] === 'object' && m['record'] !== null && !Array.isArray(m['record']))
              records.push(m['record'] as Record<string, unknown>);
            else
              records.push({
                unparseable: true,
                text: text.slice(0, 10_000),
                message: `stdout line ${line}: a RECORD without a record object`,
              });
          } else if (m['type'] === 'STATE') {
            singerState = m['value'];
            sawState = true;
          } else if (m['type'] === 'SCHEMA' && m['stream'] === c.stream) checkSchema(m['schema'], m['key_properties']);
        } else {
          if (m['type'] === 'RECORD') {
            const r = (m['record'] ?? {}) as Record<string, unknown>;
            if (r['stream'] !== c.stream) skipped[String(r['stream'])] = (skipped[String(r['stream'])] ?? 0) + 1;
            else if (typeof r['data'] === 'object' && r['data'] !== null && !Array.isArray(r['data']))
              records.push(r['data'] as Record<string, unknown>);
            else
              records.push({
                unparseable: true,
                text: text.slice(0, 10_000),
                message: `stdout line ${line}: a RECORD without data`,
              });
          } else if (m['type'] === 'STATE') {
            const s = (m['state'] ?? {}) as AirbyteState;
            sawState = true;
            if (s['type'] === 'STREAM') {
              const d = ((s['stream'] as AirbyteState | undefined)?.['stream_descriptor'] ?? {}) as AirbyteState;
              airbyteStates.set(`${String(d['namespace'] ?? '')}.${String(d['name'])}`, s);
            } else if (s['type'] === 'GLOBAL') airbyteStates.set('\0global', s);
            else airbyteLegacy = s['data'] ?? s;
          } else if (m['type'] === 'LOG') {
            const l = (m['log'] ?? {}) as AirbyteState;
            if (l['level'] === 'WARN' || l['level'] === 'ERROR' || l['level'] === 'FATAL')
              o.log?.('warn', `tap: ${mask(String(l['message']).slice(0, 500))}`);
          } else if (m['type'] === 'TRACE') {
            const t = (m['trace'] ?? {}) as AirbyteState;
            const err = t['error'] as AirbyteState | undefined;
            if (t['type'] === 'ERROR' && err) traceError = String(err['message'] ?? err['internal_message'] ?? 'error');
          }
        }
        if (records.length >= batchSize) {
          yield { records };
          records = [];
        }
      }
      if (records.length) yield { records };
      const end = await exited;
      if (end.error) throw new TapFailedError(`The tap could not be started: ${end.error.message}`);
      if (o.signal.aborted) return;
      if (end.code !== 0) {
        const why = traceError ? ` (${mask(traceError)})` : '';
        const tail = mask(stderr.trim()).slice(-1000);
        throw new TapFailedError(
          `The tap exited with ${end.signal ? `signal ${end.signal}` : `code ${end.code}`}${why}; nothing was published${tail ? `. stderr: ${tail}` : ''}`,
        );
      }
    } finally {
      rl.close();
    }
  }

  const what = `${protocol === 'airbyte' ? 'Airbyte source' : 'Singer tap'} ${c.command} stream ${c.stream}`;
  return {
    batches: batches(),
    skipped,
    description: `${what}${o.watermark !== null ? ' from its stored state' : ''}`,
    checkpoint: () => {
      if (!sawState) return null;
      if (protocol === 'singer') return JSON.stringify(singerState ?? null);
      if (airbyteStates.size) return JSON.stringify([...airbyteStates.values()]);
      return JSON.stringify(airbyteLegacy ?? null);
    },
    close: async () => {
      o.signal.removeEventListener('abort', kill);
      kill();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
      cleanup();
    },
  };
}
