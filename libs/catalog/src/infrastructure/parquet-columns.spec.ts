import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { compareUtf8, unscaledDecimalText } from './parquet-columns.writer';
import { ParquetFileWriter } from './parquet-file.writer';

describe('Parquet column helpers', () => {
  it('orders strings as their UTF-8 bytes (code points), not UTF-16 units', () => {
    const words = ['b', 'é', '\uffff', '𝄞', 'a', '', 'ab', '\ud7ff'];
    const bytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...words].sort(compareUtf8)).toEqual(bytes);
  });

  it("takes numeric(p,s) text's unscaled digits", () => {
    expect(unscaledDecimalText('-12.50', 2)).toBe('-1250');
    expect(unscaledDecimalText('7', 0)).toBe('7');
    expect(unscaledDecimalText('1.5', 2)).toBe(150n);
  });
});

describe('fixed-width columns written by ParquetFileWriter', () => {
  it('write negative, narrow and wide 64-bit values and their statistics as DuckDB reads them', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'weir-pq-')), 'x.parquet');
    const w = new ParquetFileWriter(file, 'x.parquet', {
      columns: [
        { name: 'i', kind: 'int64', nullable: true, type: 'bigint' },
        { name: 'd', kind: 'decimal', precision: 18, scale: 2, nullable: true, type: 'numeric(18,2)' },
        { name: 'n', kind: 'int32', nullable: true, type: 'integer' },
      ],
      compression: 'snappy',
      rowGroupSize: 3,
      kv: {},
    });
    const rows: (string | null)[][] = [
      ['-1', '-0.01', '-2147483648'],
      ['9223372036854775807', '9999999999999999.99', '2147483647'],
      [null, null, null],
      ['-9223372036854775808', '-9999999999999999.99', '0'],
      ['-4294967296', '-42949672.96', '-1'],
      ['4294967295', '1.00', null],
    ];
    await w.append(rows, 0, rows.length, 0);
    await w.close();
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const got = (
      await duck.runAndReadAll(`SELECT i::VARCHAR AS i, d::VARCHAR AS d, n FROM read_parquet('${file}')`)
    ).getRowObjectsJS();
    expect(got).toEqual(rows.map(([i, d, n]) => ({ i, d, n: n === null ? null : Number(n) })));
    const stats = (
      await duck.runAndReadAll(
        `SELECT row_group_id::INT AS g, path_in_schema AS c, stats_min_value AS min, stats_max_value AS max
           FROM parquet_metadata('${file}') WHERE path_in_schema <> 'n' ORDER BY 1, 2`,
      )
    ).getRowObjectsJS();
    expect(stats).toEqual([
      { g: 0, c: 'd', min: '-0.01', max: '9999999999999999.99' },
      { g: 0, c: 'i', min: '-1', max: '9223372036854775807' },
      { g: 1, c: 'd', min: '-9999999999999999.99', max: '1.00' },
      { g: 1, c: 'i', min: '-9223372036854775808', max: '4294967295' },
    ]);
  });
});
