import { copyField, parseCopyLines } from './lake-export.reader';

describe('COPY text parsing', () => {
  it('splits complete lines into fields, NULLs and escapes undone; returns where the unfinished line starts', () => {
    const text = 'a\t\\N\tx\\ty\n\t1\\\\2\tnl\\nend\n3\tpart';
    const out: (string | null)[][] = [];
    const rest = parseCopyLines(text, 0, 3, out);
    expect(out).toEqual([
      ['a', null, 'x\ty'],
      ['', '1\\2', 'nl\nend'],
    ]);
    expect(text.slice(rest)).toBe('3\tpart');
  });

  it('refuses a row with fewer fields than the query has', () => {
    expect(() => parseCopyLines('a\tb\n', 0, 3, [])).toThrow(/fewer than 3 fields/);
  });

  it('undoes octal and hex escapes', () => {
    expect(copyField('\\101\\x42\\\\N')).toBe('AB\\N');
    expect(copyField('\\N')).toBeNull();
  });
});
