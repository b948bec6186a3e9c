import { numberRows } from './stage-copy.writer';

describe('numberRows', () => {
  it('appends each row its record number, escaped newlines inside values untouched', () => {
    const chunk = Buffer.from('1\tcafé\n2\tline one\\nline two\n3\t\\N\n');
    expect(numberRows(chunk, [4, 7, 9]).toString()).toBe('1\tcafé\t4\n2\tline one\\nline two\t7\n3\t\\N\t9\n');
  });
});
