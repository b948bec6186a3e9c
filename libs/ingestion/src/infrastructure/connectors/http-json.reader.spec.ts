import { recordShaper } from './http-json.reader';

describe('http_json records shaped for the contract', () => {
  const order = {
    id: 7,
    customer: { address: { city: 'Lyon', zip: '69001' } },
    note: 'fragile',
    line_items: [
      { sku: 'A', qty: 1 },
      { sku: 'B', qty: 2, meta: { gift: true } },
    ],
  };

  it('flattens dotted from paths and keeps arrays, objects and strings as the JSON they are (jsonb)', () => {
    const shape = recordShaper(
      undefined,
      ['id', 'customer.address.city', 'line_items', 'customer.address', 'note'],
      ['line_items', 'customer.address', 'note'],
    );
    expect(shape(order)).toEqual([
      {
        id: 7,
        note: '"fragile"',
        line_items: order.line_items,
        'customer.address.city': 'Lyon',
        'customer.address': { city: 'Lyon', zip: '69001' },
      },
    ]);
    expect(order.note).toBe('fragile'); // the record itself is not changed
    expect(shape([1, 2])).toEqual([{ unparseable: true, text: '[1,2]', message: 'not a JSON object' }]);
  });

  it('unnests: one row per element with _parent and _index when the contract reads them', () => {
    const shape = recordShaper({ path: 'line_items' }, ['_parent.id', 'sku', 'qty', '_index', 'meta'], ['meta']);
    expect(shape(order)).toEqual([
      { sku: 'A', qty: 1, _index: 0, '_parent.id': 7 },
      { sku: 'B', qty: 2, meta: { gift: true }, _index: 1, '_parent.id': 7 },
    ]);
    // an empty, null or missing array: no rows; something else: one unparseable row
    expect(shape({ id: 8, line_items: [] })).toEqual([]);
    expect(shape({ id: 9, line_items: null })).toEqual([]);
    expect(shape({ id: 10 })).toEqual([]);
    expect(shape({ id: 11, line_items: 'oops' })).toEqual([
      {
        unparseable: true,
        text: '{"id":11,"line_items":"oops"}',
        message: 'line_items is not an array (connector.unnest.path)',
      },
    ]);
    expect(shape('x')).toEqual([{ unparseable: true, text: '"x"', message: 'not a JSON object' }]);
  });

  it('unnests scalars as value, at a nested path, under renamed parent and index fields', () => {
    const shape = recordShaper({ path: 'data.tags', parent: 'order', index: 'pos' }, ['order.id', 'value', 'pos'], []);
    expect(shape({ id: 1, data: { tags: ['x', 3, null, [1]] } })).toEqual([
      { value: 'x', pos: 0, 'order.id': 1 },
      { value: 3, pos: 1, 'order.id': 1 },
      { value: null, pos: 2, 'order.id': 1 },
      { value: [1], pos: 3, 'order.id': 1 },
    ]);
    // neither the parent nor the position is added when the contract does not read them
    expect(recordShaper({ path: 'line_items' }, ['sku', 'qty'], [])(order)).toEqual([
      { sku: 'A', qty: 1 },
      { sku: 'B', qty: 2, meta: { gift: true } },
    ]);
    // the whole parent as a jsonb column
    expect(recordShaper({ path: 'line_items' }, ['sku', '_parent'], ['_parent'])(order)[0]).toEqual({
      sku: 'A',
      qty: 1,
      _parent: order,
    });
  });
});
