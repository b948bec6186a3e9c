import { Client } from 'pg';
import { RunsService } from '@weir/ingestion';
import { admin, TestApp } from './support/test-app';
import { startIngestionApp, tempDataDir } from './support/files';

/** Every new type, `nullable` left out (default true; the key column defaults to NOT NULL). */
const contract = {
  columns: [
    { name: 'id', type: 'bigint', primaryKey: true },
    { name: 's', type: 'smallint' },
    { name: 'r', type: 'real' },
    { name: 'd', type: 'double precision' },
    { name: 'vc', type: 'varchar(5)' },
    { name: 'ch', type: 'char(3)' },
    { name: 'tm', type: 'time' },
    { name: 'iv', type: 'interval' },
    { name: 'by', type: 'bytea' },
    { name: 'js', type: 'json' },
    { name: 'ta', type: 'text[]' },
    { name: 'ba', type: 'bigint[]' },
  ],
};
const COLUMNS = contract.columns.map((c) => c.name);

/** One bad value per type, with the reason it is dead-lettered for. */
const BAD: [string, unknown, string][] = [
  ['s', '40000', 'TYPE_MISMATCH'],
  ['r', '3.5e38', 'TYPE_MISMATCH'],
  ['d', 'abc', 'TYPE_MISMATCH'],
  ['vc', 'toolong', 'TOO_LONG'],
  ['ch', 'abcd', 'TOO_LONG'],
  ['tm', '25:00', 'TYPE_MISMATCH'],
  ['iv', '1 fortnight', 'TYPE_MISMATCH'],
  ['by', '\\xzz', 'TYPE_MISMATCH'],
  ['js', '{a:1}', 'TYPE_MISMATCH'],
  ['ta', '{"a}', 'TYPE_MISMATCH'],
  ['ba', '{1,x}', 'TYPE_MISMATCH'],
];

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

describe('contract types e2e: smallint, real, double precision, varchar(n), char(n), time, interval, bytea, json, arrays', () => {
  let t: TestApp;
  let files: ReturnType<typeof tempDataDir>;
  let pg: Client;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ t, files, pg, close } = await startIngestionApp());
  });
  afterAll(() => close?.());

  async function load(ds: string, format: string, file: string) {
    await t.http.post('/api/catalog/datasets').set(admin).send({ name: ds, contract }).expect(201);
    const src = (
      await t.http
        .post('/api/ingestion/sources')
        .set(admin)
        .send({ name: `${ds}_src`, dataset: ds, format, strategy: { kind: 'replace' }, maxRejectedRatio: 1 })
        .expect(201)
    ).body;
    const queued = await t.http
      .post(`/api/ingestion/sources/${src.id}/runs`)
      .set(admin)
      .send({ path: file })
      .expect(202);
    const run = await t.app.get(RunsService).waitFor(queued.body.id, 60_000);
    const dl = (await t.http.get(`/api/ingestion/runs/${run.id}/dead-letters?pageSize=100`).set(admin).expect(200))
      .body;
    const rows = (
      await pg.query(
        `SELECT id::int, s, r::text, d::text, vc, ch, tm::text, iv::text, encode(by, 'hex') AS by, js::text, ta::text, ba::text
           FROM raw.${ds} ORDER BY id`,
      )
    ).rows;
    return { run, dl, rows };
  }

  async function columnTypes(ds: string) {
    return (
      await pg.query(
        `SELECT column_name, data_type, udt_name, character_maximum_length AS len, is_nullable
           FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = $1 ORDER BY ordinal_position`,
        [ds],
      )
    ).rows.map((r) => [r.column_name, r.data_type, r.udt_name, r.len, r.is_nullable]);
  }

  const EXPECTED_TYPES = [
    ['id', 'bigint', 'int8', null, 'NO'],
    ['s', 'smallint', 'int2', null, 'YES'],
    ['r', 'real', 'float4', null, 'YES'],
    ['d', 'double precision', 'float8', null, 'YES'],
    ['vc', 'character varying', 'varchar', 5, 'YES'],
    ['ch', 'character', 'bpchar', 3, 'YES'],
    ['tm', 'time without time zone', 'time', null, 'YES'],
    ['iv', 'interval', 'interval', null, 'YES'],
    ['by', 'bytea', 'bytea', null, 'YES'],
    ['js', 'json', 'json', null, 'YES'],
    ['ta', 'ARRAY', '_text', null, 'YES'],
    ['ba', 'ARRAY', '_int8', null, 'YES'],
  ];

  function expectDeadLetters(dl: { total: number; items: { column: string; reason: string; message: string }[] }) {
    expect(dl.total).toBe(BAD.length);
    const byColumn = Object.fromEntries(dl.items.map((d) => [d.column, d]));
    for (const [col, , reason] of BAD) {
      expect(byColumn[col]).toMatchObject({ column: col, reason });
      expect(byColumn[col].message).toContain(col);
    }
  }

  it('loads a CSV with every new type; a bad value of each is dead-lettered with a reason', async () => {
    const good = [
      [
        1,
        12,
        '1.5',
        '2.25',
        'abc',
        'xy',
        '13:45:06.5',
        '1 day 02:00:00',
        '\\xDEADBEEF',
        '{"a":[1,2]}',
        '{a,"b c",NULL}',
        '[1,2,3]',
      ],
      [2, '', '', '', '', '', '', '', '', '', '', ''],
      [
        3,
        '-32768',
        'NaN',
        '-Infinity',
        'ünïcø',
        'abc',
        '24:00:00',
        'P1Y2M3DT4H',
        '3q2+7w==',
        '[true]',
        '["x","y"]',
        '{4, 5}',
      ],
    ];
    const bad = BAD.map(([col, v], i) => COLUMNS.map((c) => (c === 'id' ? 100 + i : c === col ? v : '')));
    const csv = [COLUMNS, ...good, ...bad].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
    files.write('types.csv', csv);
    const { run, dl, rows } = await load('types_csv', 'csv', 'types.csv');
    expect(run).toMatchObject({
      status: 'succeeded',
      rowsRead: 3 + BAD.length,
      rowsLoaded: 3,
      rowsRejected: BAD.length,
    });
    expect(await columnTypes('types_csv')).toEqual(EXPECTED_TYPES);
    expect(rows).toEqual([
      {
        id: 1,
        s: 12,
        r: '1.5',
        d: '2.25',
        vc: 'abc',
        ch: 'xy ',
        tm: '13:45:06.5',
        iv: '1 day 02:00:00',
        by: 'deadbeef',
        js: '{"a":[1,2]}',
        ta: '{a,"b c",NULL}',
        ba: '{1,2,3}',
      },
      {
        id: 2,
        s: null,
        r: null,
        d: null,
        vc: null,
        ch: null,
        tm: null,
        iv: null,
        by: null,
        js: null,
        ta: null,
        ba: null,
      },
      {
        id: 3,
        s: -32768,
        r: 'NaN',
        d: '-Infinity',
        vc: 'ünïcø',
        ch: 'abc',
        tm: '24:00:00',
        iv: '1 year 2 mons 3 days 04:00:00',
        by: 'deadbeef',
        js: '[true]',
        ta: '{x,y}',
        ba: '{4,5}',
      },
    ]);
    expectDeadLetters(dl);
  });

  it('loads NDJSON with native arrays and objects; a bad value of each type is dead-lettered', async () => {
    const good = [
      {
        id: 1,
        s: 12,
        r: 1.5,
        d: 2.25,
        vc: 'abc',
        ch: 'xy',
        tm: '13:45',
        iv: '3 hours',
        by: 'AQID',
        js: { a: [1, 2] },
        ta: ['a', 'b c', null],
        ba: [1, 2],
      },
      { id: 2 },
      { id: 3, ta: [], ba: '{7}', js: '"a \\\\ b"' },
    ];
    const badJson: [string, unknown][] = BAD.map(([c, v]) =>
      c === 'ba' ? [c, [1, 'x']] : c === 'ta' ? [c, [['nested']]] : [c, v],
    );
    const bad = badJson.map(([col, v], i) => ({ id: 100 + i, [col]: v }));
    files.write('types.ndjson', [...good, ...bad].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { run, dl, rows } = await load('types_json', 'ndjson', 'types.ndjson');
    expect(run).toMatchObject({ status: 'succeeded', rowsLoaded: 3, rowsRejected: BAD.length });
    expect(await columnTypes('types_json')).toEqual(EXPECTED_TYPES);
    expect(rows[0]).toEqual({
      id: 1,
      s: 12,
      r: '1.5',
      d: '2.25',
      vc: 'abc',
      ch: 'xy ',
      tm: '13:45:00',
      iv: '03:00:00',
      by: '010203',
      js: '{"a":[1,2]}',
      ta: '{a,"b c",NULL}',
      ba: '{1,2}',
    });
    expect(rows[2]).toMatchObject({ id: 3, ta: '{}', ba: '{7}', js: '"a \\\\ b"' });
    expectDeadLetters(dl);
  });

  it('refuses an unknown type with the supported ones listed; nullable defaults to true', async () => {
    const r = await t.http
      .post('/api/catalog/datasets')
      .set(admin)
      .send({ name: 'bad_type', contract: { columns: [{ name: 'x', type: 'string' }] } })
      .expect(400);
    expect(r.body.code).toBe('CATALOG.INVALID_CONTRACT');
    expect(r.body.detail).toContain(
      'unknown type "string" (supported: text, varchar(n), char(n), smallint, integer, bigint, numeric, numeric(p,s), real, double precision, boolean, date, time, timestamp, timestamptz, interval, uuid, json, jsonb, bytea, and arrays',
    );
    const ds = (await t.http.get('/api/catalog/datasets/types_csv').set(admin).expect(200)).body;
    expect(ds.contract.columns.map((c: { nullable: boolean }) => c.nullable)).toEqual(COLUMNS.map((c) => c !== 'id'));

    // widening changes are applied to the loaded table at once; narrowing a varchar is breaking
    const widen = (over: Record<string, string>) => ({
      contract: { columns: contract.columns.map((c) => (over[c.name] ? { ...c, type: over[c.name] } : c)) },
    });
    const w = await t.http
      .patch('/api/catalog/datasets/types_csv')
      .set(admin)
      .send(widen({ s: 'integer', r: 'double precision', vc: 'varchar(10)', ba: 'numeric[]' }))
      .expect(200);
    expect(w.body.change.kind).toBe('widening');
    const types = Object.fromEntries((await columnTypes('types_csv')).map((r) => [r[0], [r[1], r[3]]]));
    expect([types.s, types.r, types.vc]).toEqual([
      ['integer', null],
      ['double precision', null],
      ['character varying', 10],
    ]);
    const narrowed = await t.http
      .patch('/api/catalog/datasets/types_csv')
      .set(admin)
      .send(widen({ s: 'integer', r: 'double precision', vc: 'varchar(2)', ba: 'numeric[]' }))
      .expect(409);
    expect(narrowed.body.code).toBe('CATALOG.BREAKING_CHANGE');
  });
});
