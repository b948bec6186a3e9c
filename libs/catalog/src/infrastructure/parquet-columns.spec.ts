import { compareUtf8, unscaledDecimalText } from './parquet-columns';

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
