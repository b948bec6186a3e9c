import { inputProblem } from './input.guard';

describe('inputProblem: one rule for strings and depth, without recursion', () => {
  it('names where a NUL or a lone surrogate is, as a JSON pointer (keys escaped)', () => {
    expect(inputProblem({ a: [{ 'b/c~': 'x\u0000y' }] }, 'body')).toMatchObject({
      code: 'PLATFORM.INVALID_STRING',
      extra: { pointer: '/a/0/b~1c~0' },
    });
    expect(inputProblem({ ok: 'fine', ['k\ud800']: 1 }, 'body')).toMatchObject({
      code: 'PLATFORM.INVALID_STRING',
      extra: { pointer: '/' },
    });
    expect(inputProblem('top\u0000', 'query')?.message).toBe(
      'The query at / contains a NUL character (\\u0000), which PostgreSQL cannot store',
    );
    expect(inputProblem({ a: ['emoji 😀 is well formed'], n: 1, z: null }, 'body')).toBeUndefined();
  });

  it('refuses nesting past the bound, however deep (no stack overflow), and accepts it at the bound', () => {
    const nest = (n: number) => {
      let v: unknown = 1;
      for (let i = 0; i < n; i++) v = [v];
      return v;
    };
    expect(inputProblem(nest(100_000), 'body')).toMatchObject({ code: 'PLATFORM.BODY_TOO_DEEP' });
    expect(inputProblem(nest(100), 'body')).toBeUndefined();
    expect(inputProblem(nest(101), 'body')).toMatchObject({ code: 'PLATFORM.BODY_TOO_DEEP' });
  });
});
