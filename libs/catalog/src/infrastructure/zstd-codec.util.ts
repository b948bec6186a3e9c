import * as zlib from 'node:zlib';

/** A synchronous zstd compressor (hyparquet-writer calls its compressors synchronously). */
export type ZstdCompress = (input: Uint8Array) => Uint8Array;

/** The zstd of the Parquet pages: level 3, zstd's default (DuckDB's and Spark's too). */
const LEVEL = 3;

interface ZstdWasm {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
}

/** node:zlib's zstd (Node.js 22.15+), when this runtime has it. */
function nodeZstd(): ZstdCompress | undefined {
  const z = zlib as unknown as {
    zstdCompressSync?: (b: Uint8Array, o?: { params?: Record<number, number> }) => Buffer;
    constants: Record<string, number>;
  };
  const fn = z.zstdCompressSync;
  if (!fn) return undefined;
  const level = z.constants['ZSTD_c_compressionLevel'];
  const options = level === undefined ? undefined : { params: { [level]: LEVEL } };
  return (b) => fn(b, options);
}

let ready: ZstdCompress | undefined = nodeZstd();
let loading: Promise<ZstdCompress | undefined> | undefined;
let failure: string | undefined;

/**
 * The zstd compressor: node:zlib's when present, else `@bokuweb/zstd-wasm` (its WebAssembly
 * loaded once, on first use). Undefined when neither is available (see {@link zstdProblem}).
 */
export function loadZstd(): Promise<ZstdCompress | undefined> {
  if (ready) return Promise.resolve(ready);
  loading ??= (async () => {
    try {
      const wasm = require('@bokuweb/zstd-wasm') as ZstdWasm;
      await wasm.init();
      ready = (b) => wasm.compress(b, LEVEL);
      return ready;
    } catch (e) {
      failure = (e as Error).message;
      return undefined;
    }
  })();
  return loading;
}

/** The loaded compressor; throws if {@link loadZstd} has not resolved to one. */
export function zstdCompress(input: Uint8Array): Uint8Array {
  if (!ready) throw new Error('zstd is not loaded (loadZstd first)');
  return ready(input);
}

/** Why zstd cannot be written here (neither node:zlib's nor the WebAssembly one), or undefined. */
export async function zstdProblem(): Promise<string | undefined> {
  if (await loadZstd()) return undefined;
  return `zstd is unavailable: this Node.js (${process.version}) has no zstd in zlib (22.15 or later) and @bokuweb/zstd-wasm did not load (${failure ?? 'unknown'}): use snappy, gzip or brotli`;
}
