import * as zlib from 'node:zlib';
import type * as Codec from './zstd-codec.util';

const hasNodeZstd = 'zstdCompressSync' in zlib;

/** zstd frames start with the magic number 0xFD2FB528 (little-endian). */
const isZstdFrame = (b: Uint8Array) => b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;

describe('zstd codec', () => {
  afterEach(() => jest.resetModules());

  it('compresses with node:zlib or the WebAssembly zstd; the frames decompress to the input', async () => {
    const codec = require('./zstd-codec.util') as typeof Codec; // a fresh module (its zstd state) per test
    const input = Buffer.from('weir '.repeat(10_000));
    // node:zlib's is there from the start; the WebAssembly one only once loaded
    if (!hasNodeZstd) expect(() => codec.zstdCompress(input)).toThrow(/not loaded/);
    expect(await codec.zstdProblem()).toBeUndefined();
    const out = codec.zstdCompress(input);
    expect(isZstdFrame(out)).toBe(true);
    expect(out.length).toBeLessThan(input.length / 10);
    const wasm = require('@bokuweb/zstd-wasm') as { init(): Promise<void>; decompress(b: Uint8Array): Uint8Array };
    await wasm.init();
    expect(Buffer.from(wasm.decompress(out)).equals(input)).toBe(true);
  });

  (hasNodeZstd ? it.skip : it)('without either zstd, says why (CATALOG.CODEC_UNAVAILABLE)', async () => {
    jest.doMock('@bokuweb/zstd-wasm', () => ({
      init: () => Promise.reject(new Error('no wasm here')),
      compress: () => new Uint8Array(),
    }));
    const codec = require('./zstd-codec.util') as typeof Codec; // a fresh module (its zstd state) per test
    expect(await codec.zstdProblem()).toMatch(/no zstd in zlib .*no wasm here.*use snappy, gzip or brotli/);
    expect(await codec.loadZstd()).toBeUndefined();
  });
});
