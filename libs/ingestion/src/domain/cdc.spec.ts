import { CdcBatch, cdcDrift, lsnText, lsnValue, resolveCdc } from './cdc';

describe('CdcBatch', () => {
  it('keeps the last change per key: several updates become one upsert of the last image', () => {
    const b = new CdcBatch(['id']);
    b.upsert({ id: '1', v: 'a' });
    b.upsert({ id: '1', v: 'b' });
    b.upsert({ id: '1', v: 'c' });
    b.upsert({ id: '2', v: 'x' });
    const p = b.plan();
    expect(p.deletes).toEqual([]);
    expect(p.upserts).toEqual([
      {
        columns: ['id', 'v'],
        rows: [
          { id: '1', v: 'c' },
          { id: '2', v: 'x' },
        ],
      },
    ]);
    expect(b.read).toBe(4);
    expect(b.deduplicated).toBe(2);
  });

  it('an insert then a delete of a key is one delete (of a row the target never had)', () => {
    const b = new CdcBatch(['id']);
    b.upsert({ id: '7', v: 'ghost' });
    b.delete({ id: '7', v: null });
    expect(b.plan()).toEqual({ upserts: [], deletes: [{ id: '7' }] });
  });

  it('a delete then an insert of a key is an upsert', () => {
    const b = new CdcBatch(['id']);
    b.delete({ id: '7' });
    b.upsert({ id: '7', v: 'back' });
    expect(b.plan()).toEqual({ upserts: [{ columns: ['id', 'v'], rows: [{ id: '7', v: 'back' }] }], deletes: [] });
  });

  it('groups upserts by the columns they carry; an unchanged TOAST value is taken from the batch when known', () => {
    const b = new CdcBatch(['id']);
    b.upsert({ id: '1', big: 'long text', v: 'a' });
    b.upsert({ id: '1', big: undefined, v: 'b' });
    b.upsert({ id: '2', big: undefined, v: 'c' });
    const p = b.plan();
    expect(p.upserts).toEqual([
      { columns: ['id', 'big', 'v'], rows: [{ id: '1', big: 'long text', v: 'b' }] },
      { columns: ['id', 'v'], rows: [{ id: '2', big: undefined, v: 'c' }] },
    ]);
  });

  it('a TRUNCATE drops what came before it in the batch', () => {
    const b = new CdcBatch(['a', 'b']);
    b.upsert({ a: '1', b: '1' });
    b.truncate();
    b.upsert({ a: '1', b: '2' });
    expect(b.truncated).toBe(true);
    expect(b.plan().upserts[0].rows).toEqual([{ a: '1', b: '2' }]);
    expect(b.deduplicated).toBe(1);
  });
});

describe('LSNs', () => {
  it('order numerically and print as PostgreSQL does, padded or not', () => {
    expect(lsnValue('00000000/01B863F8')).toBe(lsnValue('0/1B863F8'));
    expect(lsnValue('1/0')).toBeGreaterThan(lsnValue('0/FFFFFFFF'));
    expect(lsnText(lsnValue('00000016/B374D848'))).toBe('16/B374D848');
  });
});

describe('cdcDrift', () => {
  const cols = [
    { name: 'id', typeOid: 20 },
    { name: 'note', typeOid: 25 },
    { name: 'n', typeOid: 23 },
  ];
  it('evolve adds the new columns with their types', () => {
    expect(cdcDrift(cols, ['id'], 'evolve')).toEqual({
      add: [
        { name: 'note', type: 'text' },
        { name: 'n', type: 'integer' },
      ],
      ignore: [],
    });
  });
  it('freeze fails naming them; discard_columns ignores them', () => {
    expect(cdcDrift(cols, ['id'], 'freeze').problem).toMatch(/note, n.*freeze/);
    expect(cdcDrift(cols, ['id'], 'discard_columns')).toEqual({ add: [], ignore: ['note', 'n'] });
    expect(cdcDrift(cols, ['id', 'note', 'n'], 'freeze')).toEqual({ add: [], ignore: [] });
  });
});

describe('resolveCdc', () => {
  it('names the publication and slot after the source and fills the defaults', () => {
    const c = resolveCdc({ kind: 'postgres_cdc', connection: { host: 'h' }, table: 'public.t' }, 'Orders-CDC');
    expect(c).toMatchObject({
      slot: 'weir_orders_cdc',
      publication: 'weir_orders_cdc',
      batchChanges: 5000,
      truncate: 'refuse',
      deletes: 'hard',
    });
  });
});
