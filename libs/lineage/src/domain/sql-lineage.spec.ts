import { sqlLineage, sqlOutputColumns, SqlParseError, upstreamSchemas } from './sql-lineage';

const direct = (r: Awaited<ReturnType<typeof sqlLineage>>) =>
  r.columnLineage
    .filter((e) => e.type === 'DIRECT')
    .map((e) => `${e.source.table}.${e.source.column} -> ${e.target.table}.${e.target.column} ${e.subtype}`)
    .sort();
const indirect = (r: Awaited<ReturnType<typeof sqlLineage>>) =>
  r.columnLineage
    .filter((e) => e.type === 'INDIRECT')
    .map((e) => `${e.source.table}.${e.source.column} -> ${e.target.column} ${e.subtype}`)
    .sort();

describe('sqlLineage (libpg-query AST)', () => {
  it('resolves CTEs, aliases and aggregates end to end, with OpenLineage subtypes', async () => {
    const r = await sqlLineage(`
      INSERT INTO mart.customer_totals (customer_id, total, label)
      WITH paid AS (SELECT p.order_id, p.amount FROM raw.payments p WHERE p.status = 'ok')
      SELECT o.customer_id, sum(paid.amount), CASE WHEN o.vip THEN 'vip' ELSE upper(o.segment) END
      FROM raw.orders o JOIN paid ON paid.order_id = o.id
      GROUP BY o.customer_id, o.vip, o.segment ORDER BY 2 DESC`);
    expect(r.tablesRead).toEqual(['raw.orders', 'raw.payments']);
    expect(r.tablesWritten).toEqual(['mart.customer_totals']);
    expect(direct(r)).toEqual([
      'raw.orders.customer_id -> mart.customer_totals.customer_id IDENTITY',
      'raw.orders.segment -> mart.customer_totals.label TRANSFORMATION',
      'raw.payments.amount -> mart.customer_totals.total AGGREGATION',
    ]);
    expect(indirect(r)).toEqual(
      expect.arrayContaining([
        'raw.orders.vip -> label CONDITIONAL',
        'raw.orders.id -> total JOIN',
        'raw.payments.order_id -> customer_id JOIN',
        'raw.orders.customer_id -> total GROUP_BY',
        // the CTE's WHERE filters every output row
        'raw.payments.status -> customer_id FILTER',
      ]),
    );
    expect(r.unresolved).toEqual([]);
  });

  it('expands * with known schemas, and reports (not guesses) an ambiguous column', async () => {
    const known = await sqlLineage('CREATE TABLE t2 AS SELECT * FROM s.a JOIN s.b USING (k)', {
      schemas: { 's.a': ['k', 'x'], 's.b': ['k', 'y'] },
    });
    expect(direct(known)).toEqual(expect.arrayContaining(['s.a.x -> t2.x IDENTITY', 's.b.y -> t2.y IDENTITY']));
    const unknown = await sqlLineage('INSERT INTO t SELECT x FROM a JOIN b ON a.id = b.id');
    expect(direct(unknown)).toEqual(['null.x -> t.x IDENTITY']);
    expect(unknown.unresolved).toEqual(['x']);
    const resolved = await sqlLineage('INSERT INTO t SELECT x FROM a JOIN b ON a.id = b.id', {
      schemas: { a: ['id'], b: ['id', 'x'] },
    });
    expect(direct(resolved)).toEqual(['b.x -> t.x IDENTITY']);
  });

  it('handles MERGE, UPDATE … FROM, window functions, unions and scripts with intermediate tables', async () => {
    const merge = await sqlLineage(
      'MERGE INTO dim d USING stg s ON d.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, lower(s.name))',
    );
    expect(direct(merge)).toEqual([
      'stg.id -> dim.id IDENTITY',
      'stg.name -> dim.name IDENTITY',
      'stg.name -> dim.name TRANSFORMATION',
    ]);
    const upd = await sqlLineage('UPDATE t SET v = s.v * 2 FROM s WHERE t.k = s.k');
    expect(direct(upd)).toEqual(['s.v -> t.v TRANSFORMATION']);
    expect(upd.tablesRead).toEqual(['s']);
    const win = await sqlLineage(
      'INSERT INTO r SELECT id, row_number() OVER (PARTITION BY grp ORDER BY ts) AS rn FROM e',
    );
    expect(indirect(win)).toEqual(expect.arrayContaining(['e.grp -> rn WINDOW', 'e.ts -> rn WINDOW']));
    const script = await sqlLineage(
      'CREATE TABLE tmp AS SELECT a FROM src1 UNION ALL SELECT a FROM src2; INSERT INTO out SELECT a FROM tmp; DROP TABLE tmp',
    );
    expect([script.tablesRead, script.tablesWritten]).toEqual([['src1', 'src2'], ['out']]);
    expect(await sqlLineage('SELECT 1')).toEqual({
      tablesRead: [],
      tablesWritten: [],
      columnLineage: [],
      unresolved: [],
    });
  });

  it('follows SELECT INTO, positional GROUP BY / ORDER BY, JOIN USING and filtering subqueries', async () => {
    expect(direct(await sqlLineage('SELECT * INTO o FROM s'))).toEqual(['s.* -> o.* IDENTITY']);
    expect(indirect(await sqlLineage('INSERT INTO o SELECT a, b FROM s GROUP BY 1 ORDER BY 2'))).toEqual([
      's.a -> a GROUP_BY',
      's.a -> b GROUP_BY',
      's.b -> a SORT',
      's.b -> b SORT',
    ]);
    expect(indirect(await sqlLineage('INSERT INTO o SELECT s.a FROM s JOIN w USING (id)'))).toEqual([
      's.id -> a JOIN',
      'w.id -> a JOIN',
    ]);
    const sub = await sqlLineage(
      'INSERT INTO o SELECT a FROM s WHERE EXISTS (SELECT 1 FROM w WHERE w.z = s.z AND w.ok)',
    );
    expect(direct(sub)).toEqual(['s.a -> o.a IDENTITY']);
    expect(indirect(sub)).toEqual(['s.z -> a FILTER', 'w.ok -> a FILTER', 'w.z -> a FILTER']);
  });

  it('names UPDATE targets right (subscripts, composite fields, multi-column SET) and carries WHERE / ON / FILTER', async () => {
    const sub = await sqlLineage('UPDATE t SET arr[1] = s.x, comp.f = s.y FROM s WHERE t.k = s.k');
    expect(direct(sub)).toEqual(['s.x -> t.arr IDENTITY', 's.y -> t.comp IDENTITY']);
    expect(indirect(sub)).toEqual([
      's.k -> arr FILTER',
      's.k -> comp FILTER',
      't.k -> arr FILTER',
      't.k -> comp FILTER',
    ]);
    expect(direct(await sqlLineage('UPDATE t SET (a, b) = (SELECT s.x, s.y FROM s WHERE s.k = t.k)'))).toEqual([
      's.x -> t.a IDENTITY',
      's.y -> t.b IDENTITY',
    ]);
    expect(indirect(await sqlLineage('INSERT INTO o SELECT count(*) FILTER (WHERE s.flag) AS n FROM s'))).toEqual([
      's.flag -> n FILTER',
    ]);
    const merge = await sqlLineage('MERGE INTO t USING s ON t.k = s.k WHEN MATCHED AND s.ok THEN UPDATE SET v = s.v');
    expect(indirect(merge)).toEqual(['s.k -> v JOIN', 's.ok -> v FILTER', 't.k -> v JOIN']);
  });

  it('follows upserts, data-modifying CTEs, recursive CTEs, named windows, TABLESAMPLE, LIMIT subqueries, NATURAL joins and MERGE INSERT without columns', async () => {
    // INSERT … ON CONFLICT DO UPDATE: EXCLUDED is the proposed row, by position from the SELECT
    const upsert = await sqlLineage(
      'INSERT INTO dim (id, total) SELECT s.id, sum(s.amount) FROM stg s GROUP BY s.id ON CONFLICT (id) DO UPDATE SET total = dim.total + EXCLUDED.total WHERE dim.frozen IS NOT TRUE',
    );
    expect(direct(upsert)).toEqual([
      'dim.total -> dim.total TRANSFORMATION',
      'stg.amount -> dim.total AGGREGATION',
      'stg.id -> dim.id IDENTITY',
    ]);
    expect(indirect(upsert)).toEqual(expect.arrayContaining(['dim.frozen -> total FILTER']));
    expect(upsert.unresolved).toEqual([]);
    // an archiving move: DELETE … RETURNING * read by the INSERT, with the DELETE's WHERE shaping it
    const move = await sqlLineage(
      "WITH gone AS (DELETE FROM live.events e WHERE e.ts < now() - interval '90 days' RETURNING e.id, e.payload) INSERT INTO archive.events SELECT id, payload FROM gone",
      {
        schemas: { 'live.events': ['id', 'payload', 'ts'] },
      },
    );
    expect(direct(move)).toEqual([
      'live.events.id -> archive.events.id IDENTITY',
      'live.events.payload -> archive.events.payload IDENTITY',
    ]);
    expect(indirect(move)).toEqual(['live.events.ts -> id FILTER', 'live.events.ts -> payload FILTER']);
    expect(move.tablesWritten).toEqual(['archive.events', 'live.events']);
    // UPDATE … RETURNING: the new value of an assigned column; INSERT … RETURNING: the inserted value
    const upd = await sqlLineage(
      'WITH u AS (UPDATE acc a SET bal = a.bal - p.amt FROM pay p WHERE p.acc = a.id RETURNING a.id, a.bal) INSERT INTO ledger SELECT id, bal FROM u',
      { schemas: { acc: ['id', 'bal'] } },
    );
    expect(direct(upd)).toEqual(
      expect.arrayContaining([
        'acc.bal -> ledger.bal TRANSFORMATION',
        'pay.amt -> ledger.bal TRANSFORMATION',
        'acc.id -> ledger.id IDENTITY',
      ]),
    );
    const ins = await sqlLineage(
      'WITH n AS (INSERT INTO t (k, v) SELECT k, upper(v) FROM s RETURNING k, v) INSERT INTO log SELECT k, v FROM n',
    );
    expect(direct(ins)).toEqual(
      expect.arrayContaining(['s.k -> log.k IDENTITY', 's.v -> log.v TRANSFORMATION', 's.v -> t.v TRANSFORMATION']),
    );
    // WITH RECURSIVE: the recursive branch reads the seed's columns
    const rec = await sqlLineage(
      'INSERT INTO tree WITH RECURSIVE r(id, parent, lvl) AS (SELECT id, parent_id, 0 FROM node WHERE parent_id IS NULL UNION ALL SELECT n.id, n.parent_id, r.lvl + 1 FROM node n JOIN r ON n.parent_id = r.id) SELECT id, parent, lvl FROM r',
    );
    expect(direct(rec)).toEqual(['node.id -> tree.id IDENTITY', 'node.parent_id -> tree.parent IDENTITY']);
    expect(rec.unresolved).toEqual([]);
    // WINDOW w AS (…)
    expect(
      indirect(
        await sqlLineage(
          'INSERT INTO r SELECT id, rank() OVER w AS rk FROM e WINDOW w AS (PARTITION BY grp ORDER BY ts)',
        ),
      ),
    ).toEqual(['e.grp -> rk WINDOW', 'e.ts -> rk WINDOW']);
    // TABLESAMPLE, LIMIT (SELECT …)
    const sample = await sqlLineage('INSERT INTO o SELECT a FROM s TABLESAMPLE SYSTEM (10) LIMIT (SELECT n FROM cfg)');
    expect([sample.tablesRead, direct(sample), indirect(sample)]).toEqual([
      ['cfg', 's'],
      ['s.a -> o.a IDENTITY'],
      ['cfg.n -> a FILTER'],
    ]);
    // NATURAL JOIN, with known columns
    expect(
      indirect(
        await sqlLineage('INSERT INTO o SELECT x FROM a NATURAL JOIN b', { schemas: { a: ['k', 'x'], b: ['k', 'y'] } }),
      ),
    ).toEqual(['a.k -> x JOIN', 'b.k -> x JOIN']);
    // MERGE … INSERT VALUES (…) without a column list: the target's known columns, in order
    const merge = await sqlLineage(
      'MERGE INTO d USING s ON d.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name)',
      { schemas: { d: ['id', 'name'] } },
    );
    expect(direct(merge)).toEqual(['s.id -> d.id IDENTITY', 's.name -> d.name IDENTITY']);
    expect(
      (await sqlLineage('MERGE INTO d USING s ON d.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name)'))
        .unresolved,
    ).toEqual(['d(columns of INSERT without a column list)']);
  });

  it('after review: a recursive seed sees its WITH, NATURAL JOIN splits at the join, EXCLUDED after * and UPDATE … RETURNING on unknown tables', async () => {
    const rec = await sqlLineage(
      'INSERT INTO o WITH RECURSIVE r(a) AS (WITH q AS (SELECT x FROM s) SELECT x FROM q UNION ALL SELECT a FROM r) SELECT a FROM r',
    );
    expect([rec.tablesRead, direct(rec)]).toEqual([['s'], ['s.x -> o.a IDENTITY']]);
    const nat = await sqlLineage('INSERT INTO o SELECT v FROM (a CROSS JOIN d) NATURAL JOIN b', {
      schemas: { a: ['ts', 'k'], d: ['w'], b: ['k', 'w', 'v'] },
    });
    expect(indirect(nat)).toEqual(['a.k -> v JOIN', 'b.k -> v JOIN', 'b.w -> v JOIN', 'd.w -> v JOIN']);
    expect((await sqlLineage('INSERT INTO o SELECT v FROM a NATURAL JOIN b')).unresolved).toEqual(
      expect.arrayContaining(["NATURAL JOIN columns (a side's columns are unknown)"]),
    );
    const star = await sqlLineage(
      'INSERT INTO d SELECT * FROM s ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total',
    );
    expect(direct(star)).toEqual(['s.* -> d.* IDENTITY', 's.total -> d.total IDENTITY']);
    const vals = await sqlLineage('INSERT INTO d VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total');
    expect(vals.unresolved).toEqual(['excluded.total']);
    const upd = await sqlLineage(
      'WITH u AS (UPDATE acc a SET bal = a.bal - p.amt FROM pay p WHERE p.acc = a.id RETURNING a.id, a.bal) INSERT INTO ledger SELECT id, bal FROM u',
    );
    expect(direct(upd)).toEqual(
      expect.arrayContaining([
        'acc.bal -> ledger.bal TRANSFORMATION',
        'pay.amt -> ledger.bal TRANSFORMATION',
        'acc.id -> ledger.id IDENTITY',
      ]),
    );
    expect(
      indirect(await sqlLineage('INSERT INTO o SELECT a FROM s TABLESAMPLE BERNOULLI ((SELECT pct FROM cfg))')),
    ).toEqual(['cfg.pct -> a FILTER']);
    const mr = await sqlLineage(
      'WITH m AS (MERGE INTO d USING s ON d.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v RETURNING s.id, d.v) INSERT INTO audit SELECT id, v FROM m',
    );
    // d.v after the merge: its old value, or the s.v the UPDATE assigns
    expect(direct(mr)).toEqual([
      'd.v -> audit.v IDENTITY',
      's.id -> audit.id IDENTITY',
      's.v -> audit.v IDENTITY',
      's.v -> d.v IDENTITY',
    ]);
  });

  it('gives a plain SELECT lineage to its own output columns: table null, or the target named', async () => {
    const sql =
      'SELECT a, b AS c, upper(x) AS y, count(*) AS n FROM t JOIN u ON u.id = t.uid WHERE t.ok GROUP BY a, b, x';
    const r = await sqlLineage(sql);
    expect(direct(r)).toEqual([
      'null.a -> null.a IDENTITY',
      'null.b -> null.c IDENTITY',
      'null.x -> null.y TRANSFORMATION',
      't.* -> null.n AGGREGATION',
      'u.* -> null.n AGGREGATION',
    ]);
    // a, b and x are not qualified and neither table's columns are known: reported, not guessed
    expect(r.unresolved).toEqual(['a', 'b', 'x']);
    expect([r.tablesRead, r.tablesWritten]).toEqual([['t', 'u'], []]);
    expect(indirect(r)).toEqual(
      expect.arrayContaining(['t.uid -> y JOIN', 'u.id -> c JOIN', 't.ok -> a FILTER', 'null.x -> n GROUP_BY']),
    );
    // qualified (or known) columns resolve; the target names the result and is written
    const named = await sqlLineage('SELECT t.a, t.b AS c, upper(u.x) AS y FROM t JOIN u ON u.id = t.uid ORDER BY t.a', {
      target: 'mart.out',
      defaultSchema: 'public',
    });
    expect(direct(named)).toEqual([
      'public.t.a -> mart.out.a IDENTITY',
      'public.t.b -> mart.out.c IDENTITY',
      'public.u.x -> mart.out.y TRANSFORMATION',
    ]);
    expect(indirect(named)).toEqual([
      'public.t.a -> a SORT',
      'public.t.a -> c SORT',
      'public.t.a -> y SORT',
      'public.t.uid -> a JOIN',
      'public.t.uid -> c JOIN',
      'public.t.uid -> y JOIN',
      'public.u.id -> a JOIN',
      'public.u.id -> c JOIN',
      'public.u.id -> y JOIN',
    ]);
    expect([named.tablesRead, named.tablesWritten]).toEqual([['public.t', 'public.u'], ['mart.out']]);
    // an unqualified target takes the default schema
    expect((await sqlLineage('SELECT t.a FROM t', { target: 'OUT', defaultSchema: 'x' })).tablesWritten).toEqual([
      'x.out',
    ]);
    // the target names only a plain SELECT's result: an INSERT keeps its own table
    const ins = await sqlLineage('INSERT INTO o SELECT a FROM s', { target: 'mart.out' });
    expect([direct(ins), ins.tablesWritten]).toEqual([['s.a -> o.a IDENTITY'], ['o']]);
  });

  it('resolves a plain SELECT with CTEs (a compiled model) end to end, and its * with known columns', async () => {
    const model = `
      with customers as (select * from analytics.stg_customers),
      paid as (select p.order_id, sum(p.amount) as total from analytics.stg_payments p where p.status = 'ok' group by p.order_id),
      final as (
        select c.customer_id, c.first_name || ' ' || c.last_name as name, paid.total,
               case when paid.total > 100 then 'big' else 'small' end as size
        from customers c join analytics.stg_orders o on o.customer_id = c.customer_id
        left join paid on paid.order_id = o.order_id)
      select * from final`;
    const r = await sqlLineage(model, { target: 'analytics.customers' });
    expect(direct(r)).toEqual([
      'analytics.stg_customers.customer_id -> analytics.customers.customer_id IDENTITY',
      'analytics.stg_customers.first_name -> analytics.customers.name TRANSFORMATION',
      'analytics.stg_customers.last_name -> analytics.customers.name TRANSFORMATION',
      'analytics.stg_payments.amount -> analytics.customers.total AGGREGATION',
    ]);
    expect(indirect(r)).toEqual(
      expect.arrayContaining([
        'analytics.stg_payments.amount -> size CONDITIONAL',
        'analytics.stg_orders.customer_id -> total JOIN',
        'analytics.stg_payments.status -> name FILTER',
        'analytics.stg_payments.order_id -> customer_id GROUP_BY',
      ]),
    );
    expect(r.unresolved).toEqual([]);
    expect(await sqlOutputColumns(model)).toEqual(['customer_id', 'name', 'total', 'size']);
    // select * from an unknown table: a wildcard edge; with its columns known, one edge per column
    expect(direct(await sqlLineage('select * from raw.orders', { target: 'stg.orders' }))).toEqual([
      'raw.orders.* -> stg.orders.* IDENTITY',
    ]);
    expect(await sqlOutputColumns('select * from raw.orders')).toEqual(['*']);
    expect(
      direct(await sqlLineage('select * from raw.orders', { schemas: { 'raw.orders': ['id', 'amount'] } })),
    ).toEqual(['raw.orders.amount -> null.amount IDENTITY', 'raw.orders.id -> null.id IDENTITY']);
    expect(await sqlOutputColumns('INSERT INTO o SELECT 1')).toBeUndefined();
  });

  it("works out the columns of upstream relations, dependencies first, the caller's own winning", async () => {
    const schemas = await upstreamSchemas(
      [
        { relation: 'analytics.raw_customers', columns: ['ID', 'first_name'] },
        { relation: 'raw.events' },
        // a model over the seed: its * expands, its rename is its column
        { relation: 'analytics.stg_customers', sql: 'select id as customer_id, * from analytics.raw_customers' },
        // over a relation whose columns are unknown: its own stay unknown
        { relation: 'analytics.stg_events', sql: 'select * from raw.events' },
        { relation: 'analytics.broken', sql: 'select from where (' },
        { relation: 'analytics.given', sql: 'select 1 as x' },
      ],
      { 'Analytics.Given': ['y'] },
    );
    expect(schemas).toEqual({
      'analytics.raw_customers': ['id', 'first_name'],
      'analytics.stg_customers': ['customer_id', 'id', 'first_name'],
      'analytics.given': ['y'],
    });
  });

  it('stays bounded when a CTE is reused again and again', async () => {
    const ctes = ['c0 AS (SELECT x FROM s WHERE s.y > 0)'];
    for (let i = 1; i <= 30; i++) ctes.push(`c${i} AS (SELECT a.x FROM c${i - 1} a JOIN c${i - 1} b ON a.x = b.x)`);
    const r = await sqlLineage(`INSERT INTO o WITH ${ctes.join(', ')} SELECT x FROM c30`);
    expect(direct(r)).toEqual(['s.x -> o.x IDENTITY']);
    expect(indirect(r)).toEqual(['s.x -> x JOIN', 's.y -> x FILTER']);
  });

  it('fails on SQL that PostgreSQL cannot parse, with the position', async () => {
    await expect(sqlLineage('SELECT FROM WHERE (')).rejects.toBeInstanceOf(SqlParseError);
    await expect(sqlLineage('SELEC 1')).rejects.toMatchObject({ message: expect.stringContaining('syntax error') });
  });
});
