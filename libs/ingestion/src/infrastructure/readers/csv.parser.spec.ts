import { CsvParser } from './csv.parser';
import { isUnparseable } from './record.types';

const parse = (text: string, opts = {}) => {
  const p = new CsvParser(opts);
  return [...p.push(text), ...p.push('', true)];
};

/** Feeds the text cut at every position: the records must not depend on chunk boundaries. */
const parseInPieces = (text: string, opts = {}) => {
  const results: unknown[] = [];
  for (let cut = 0; cut <= text.length; cut++) {
    const p = new CsvParser(opts);
    results.push([...p.push(text.slice(0, cut)), ...p.push(text.slice(cut)), ...p.push('', true)]);
  }
  return results;
};

describe('CsvParser (RFC 4180)', () => {
  it.each([
    [
      'plain LF',
      'a,b\n1,2\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'CRLF',
      'a,b\r\n1,2\r\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'no final newline',
      'a,b\n1,2',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    ['blank lines are not records', 'a\n\n1\r\n\r\n', [['a'], ['1']]],
    [
      'empty fields',
      ',,\n"",x,""\n',
      [
        ['', '', ''],
        ['', 'x', ''],
      ],
    ],
    ['quoted delimiter', '"a,b",c\n', [['a,b', 'c']]],
    ['doubled quotes', '"say ""hi""",x\n', [['say "hi"', 'x']]],
    ['embedded LF and CRLF', '"l1\nl2","l3\r\nl4"\n', [['l1\nl2', 'l3\r\nl4']]],
    ['quote inside an unquoted field is literal', 'a"b,c\n', [['a"b', 'c']]],
    ['quoted last field without newline', 'x,"y"', [['x', 'y']]],
    ['non-ASCII', 'ü,東京,😀\n', [['ü', '東京', '😀']]],
    ['whitespace kept', ' a , b \n', [[' a ', ' b ']]],
  ])('%s', (_name, text, expected) => {
    expect(parse(text)).toEqual(expected);
    for (const r of parseInPieces(text)) expect(r).toEqual(expected);
  });

  it('supports another delimiter, quote and a backslash escape', () => {
    expect(parse("a;'b;c';'d\\'e'\n", { delimiter: ';', quote: "'", escape: '\\' })).toEqual([['a', 'b;c', "d'e"]]);
    for (const r of parseInPieces("a;'b;c';'d\\'e'\n", { delimiter: ';', quote: "'", escape: '\\' }))
      expect(r).toEqual([['a', 'b;c', "d'e"]]);
    expect(parse('a\tb\n', { delimiter: '\t' })).toEqual([['a', 'b']]);
  });

  it('reports an unterminated quote and text after a closing quote as unparseable, and goes on', () => {
    const r = parse('1,"ok"\n2,"bad"x,3\n4,"open\n');
    expect(r[0]).toEqual(['1', 'ok']);
    expect(isUnparseable(r[1] as never) && (r[1] as { message: string }).message).toMatch(/after a closing quote/);
    expect(isUnparseable(r[2] as never) && (r[2] as { message: string }).message).toMatch(/unterminated quoted field/);
    expect(r).toHaveLength(3);
  });

  it('handles many records across many chunk sizes identically', () => {
    let text = 'id,note\n';
    for (let i = 0; i < 500; i++)
      text += i % 7 === 0 ? `${i},"multi\nline ""${i}"", with comma"\r\n` : `${i},plain ${i}\n`;
    const whole = parse(text);
    expect(whole).toHaveLength(501);
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const p = new CsvParser();
      const out: unknown[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
      out.push(...p.push('', true));
      expect(out).toEqual(whole);
    }
  });
});
