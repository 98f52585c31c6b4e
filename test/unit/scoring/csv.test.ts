import fc from 'fast-check';
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

describe('parseCsv and csvField (property)', () => {
  it('round-trip any table of fields, and each record starts on the line counted so far', () => {
    // Prepare
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', 'é') });
    const table = fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 8,
    });

    fc.assert(
      fc.property(table, fc.boolean(), (rows, crlf) => {
        // Skip tables whose first record is one empty field: that is a blank line, not a record.
        fc.pre(rows.every((r) => r.length > 1 || (r[0] ?? '') !== ''));
        const lines = rows.map((r) => r.map(csvField).join(','));
        const text = lines.join(crlf ? '\r\n' : '\n');

        // Act
        const records = parseCsv(text);

        // Assess
        expect(records.map((r) => r.fields)).toEqual(rows);
        let line = 1;
        records.forEach((record, i) => {
          expect(record.line).toBe(line);
          line += (lines[i] as string).split(/\r\n|\n/).length;
        });
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
