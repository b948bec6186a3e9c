import { columnPath, datasetPath, expectationColumns, nearest, walkColumns, walkDatasets } from './impact';

describe('impact walks', () => {
  // a → (j1) → b → (j2) → c, and a → (j3) → c: c is reached first through j3, at depth 1
  const steps = [
    { from_id: 'a', job_id: 'j1', to_id: 'b' },
    { from_id: 'b', job_id: 'j2', to_id: 'c' },
    { from_id: 'a', job_id: 'j3', to_id: 'c' },
    { from_id: 'c', job_id: 'j4', to_id: 'a' },
  ];

  it('walks datasets breadth-first, each reached by a shortest way, cycles ended', () => {
    const w = walkDatasets('a', steps);
    expect([...w.datasets.keys()]).toEqual(['a', 'b', 'c']);
    expect(w.datasets.get('c')).toEqual({ from: 'a', job: 'j3', depth: 1 });
    expect(w.jobs.get('j2')).toEqual({ from: 'b', depth: 2 });
    expect(w.jobs.get('j4')).toEqual({ from: 'c', depth: 2 });
    expect(
      datasetPath(
        w,
        'c',
        (x) => `d:${x}`,
        (x) => `j:${x}`,
      ),
    ).toEqual(['d:a', 'j:j3', 'd:c']);
  });

  it('walks columns, keeping every edge that arrives at the first depth a column is reached', () => {
    const w = walkColumns(
      ['x'],
      [
        { s: 'x', t: 'y', type: 'DIRECT', subtype: 'IDENTITY' },
        { s: 'x', t: 'z', type: 'DIRECT', subtype: 'TRANSFORMATION' },
        { s: 'y', t: 'z', type: 'DIRECT', subtype: 'AGGREGATION' },
        { s: 'x', t: 'z', type: 'INDIRECT', subtype: 'FILTER' },
      ],
    );
    expect(w.reached.get('z')).toEqual({ from: 'x', depth: 1 });
    expect(w.arriving.get('z')!.map((e) => e.subtype)).toEqual(['TRANSFORMATION', 'FILTER']);
    expect(columnPath(w, 'z', (x) => `f:${x}`)).toEqual(['f:x', 'f:z']);
  });

  it('keeps the nearest entries, ties by key within a depth, and counts them all', () => {
    const ordered = [
      { id: '1', depth: 1 },
      { id: '2', depth: 1 },
      { id: '3', depth: 2 },
    ];
    const key = (id: string) => ({ '1': 'b', '2': 'a', '3': 'c' })[id]!;
    expect(nearest(ordered, key, 2)).toEqual({
      count: 3,
      truncated: true,
      kept: [
        { id: '2', depth: 1 },
        { id: '1', depth: 1 },
      ],
    });
    expect(nearest(ordered, key, 5).truncated).toBe(false);
  });

  it('reads the columns an expectation names', () => {
    expect(expectationColumns({ column_A: 'a', column_B: 'b', column_list: ['c', 1], column: 'd' })).toEqual([
      'd',
      'a',
      'b',
      'c',
    ]);
    expect(expectationColumns({ value: 3 })).toEqual([]);
  });
});
