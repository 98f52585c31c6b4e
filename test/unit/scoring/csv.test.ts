import { describe, expect, it } from 'vitest';
import { csvField, InputError, parseCsv } from '#shared/scoring/csv.ts';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks (RFC 4180)', () => {
    // Prepare
    const text = 'a,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\n';

    // Act
    const records = parseCsv(text);

    // Assess
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['two\nlines', 'z'] },
    ]);
  });

  it('counts lines across quoted line breaks, so later records keep their file line', () => {
    // Prepare
    const text = 'h\n"1\n2\r\n3"\nlast';

    // Act
    const records = parseCsv(text);

    // Assess
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
    expect(records[2]?.fields).toEqual(['last']);
  });

  it('ignores a byte-order mark and keeps empty fields', () => {
    // Act
    const records = parseCsv('\ufeffa,,b\n,\n');

    // Assess
    expect(records).toEqual([
      { line: 1, fields: ['a', '', 'b'] },
      { line: 2, fields: ['', ''] },
    ]);
  });

  it.each([
    ['h\nok\n"never closed\n', 3, /never closed/],
    ['h\n"a"b\n', 2, /after a closing quote/],
    ['h\nok\nab"c\n', 3, /quote inside an unquoted field/],
  ])('refuses broken quoting in %j with the line', (text, line, message) => {
    // Act
    const act = () => parseCsv(text);

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect((error as InputError).line).toBe(line);
      expect((error as InputError).message).toMatch(new RegExp(`^line ${line}: `));
    }
  });
});

describe('csvField', () => {
  it('quotes only what needs quoting, and round-trips through parseCsv', () => {
    // Prepare
    const values = ['plain', 'a,b', 'say "x"', 'line\nbreak', ' padded'];

    // Act
    const line = values.map(csvField).join(',');

    // Assess
    expect(csvField('plain')).toBe('plain');
    expect(csvField(1.5)).toBe('1.5');
    expect(parseCsv(line)[0]?.fields).toEqual(values);
  });
});
