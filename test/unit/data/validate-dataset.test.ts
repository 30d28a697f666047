import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sourceFromText } from '../../../shared/data/byte-source.js';
import { DataValidationError } from '../../../shared/data/errors.js';
import { assertValid, validateDataset } from '../../../shared/data/validate-dataset.js';
import { ValidationReport } from '../../../shared/data/validation-report.js';
import { chunked, csv, gzipped } from './helpers.js';

const SKAB = new URL('../../fixtures/data/skab-valve1-0.csv', import.meta.url);
const good = csv(50, ['a', 'b'], (i, c) => i + c / 10);
const codes = (r: ValidationReport) => r.fatalErrors.map((e) => e.code);

describe('validateDataset', () => {
  it('accepts a good file and reports counts, schema and time range', async () => {
    const report = await validateDataset(chunked(good, 100));
    expect(ValidationReport.parse(report)).toEqual(report);
    expect(report).toMatchObject({ valid: true, accepted: true });
    expect(report.counts).toMatchObject({ rows: 50, validRows: 50, rowsWithErrors: 0, zonedTimestamps: 50 });
    expect(report.schema?.sensorColumns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(report.timeRange).toEqual({ start: '2024-01-01T00:00:00.000Z', end: '2024-01-01T00:00:49.000Z' });
  });

  it('validates the SKAB valve file (semicolons, naive timestamps, label)', async () => {
    const report = await validateDataset(createReadStream(SKAB));
    expect(report.valid).toBe(true);
    expect(report.delimiter).toBe(';');
    expect(report.counts.rows).toBe(1147);
    expect(report.schema).toMatchObject({ timestampColumn: 'datetime', labelColumn: 'anomaly', expectedIntervalSeconds: 1 });
    expect(report.schema?.sensorColumns).toHaveLength(8);
  });

  it('lists row errors with line numbers, then only counts them past the cap', async () => {
    const lines = good.split('\n');
    lines[3] = lines[3].replace(/,[^,]+$/, ',abc');
    lines[5] = 'not-a-time,1,2';
    for (let i = 10; i < 30; i++) lines[i] = lines[i].replace(/,[^,]+$/, ',?x');
    const report = await validateDataset(sourceFromText(lines.join('\n')), { maxRowErrors: 5, maxBadTimestampRatio: 0.1 });
    // Accepted (the rows are kept, the bad cells read as missing), but not valid: it has errors.
    expect(report).toMatchObject({ accepted: true, valid: false });
    expect(report.rowErrors[0]).toEqual({ line: 4, code: 'NON_NUMERIC_VALUE', column: 'b', value: 'abc', message: 'value is not a number' });
    expect(report.rowErrors[1]).toMatchObject({ line: 6, code: 'INVALID_TIMESTAMP', value: 'not-a-time' });
    expect(report.rowErrors).toHaveLength(5);
    expect(report.rowErrorsTruncated).toBe(true);
    expect(report.counts.nonNumericValues).toBe(21);
    expect(report.counts.rowsWithErrors).toBe(22);
  });

  it('validates against a declared schema and names missing columns', async () => {
    const report = await validateDataset(sourceFromText(good), { schema: { timestampColumn: 'timestamp', sensorColumns: [{ name: 'a' }, { name: 'pressure' }] } });
    expect(report.fatalErrors).toEqual([expect.objectContaining({ code: 'MISSING_COLUMN', column: 'pressure' })]);
  });

  describe('fails the dataset with a clear fatal error for', () => {
    it.each([
      ['an empty file', '', 'EMPTY_FILE'],
      ['blank lines only', '\n\n  \n', 'EMPTY_FILE'],
      ['a header only', 'timestamp,a,b\n', 'HEADER_ONLY'],
      ['one column (no known delimiter)', 'timestamp|a|b\n2024-01-01T00:00:00Z|1|2\n', 'SINGLE_COLUMN'],
      ['a formula column name', 'timestamp,=cmd|/c calc,b\n2024-01-01T00:00:00Z,1,2\n', 'FORMULA_COLUMN_NAME'],
      ['an @ column name', 'timestamp,@SUM(A1),b\n2024-01-01T00:00:00Z,1,2\n', 'FORMULA_COLUMN_NAME'],
      ['a duplicate column name', 'timestamp,a,a\n2024-01-01T00:00:00Z,1,2\n', 'DUPLICATE_COLUMN'],
      ['no timestamp column', 'x,a\n1,2\n3,4\n', 'NO_TIMESTAMP_COLUMN'],
      ['no numeric column', 'timestamp,name\n2024-01-01T00:00:00Z,pump\n', 'NO_SENSOR_COLUMNS'],
      ['mixed time zones', 'timestamp,a\n2024-01-01T00:00:00Z,1\n2024-01-01 00:00:01,2\n2024-01-01 00:00:02,3\n', 'MIXED_TIMEZONES'],
      ['unparseable timestamps', 'timestamp,a\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,2\n' + 'soon,3\n'.repeat(5), 'UNPARSEABLE_TIMESTAMPS'],
      ['ragged rows', `${good}${'2024-01-02T00:00:00Z,1\n'.repeat(5)}`, 'RAGGED_ROWS'],
      ['a wrong delimiter inside the rows', `timestamp,a,b\n${'2024-01-01T00:00:00Z;1;2\n'.repeat(5)}`, 'NO_VALID_ROWS'],
      ['JSON Lines that are not JSON', '{"time": 1, "a": \n', 'INVALID_JSON'],
    ])('%s', async (_name, text, code) => {
      const report = await validateDataset(chunked(text, 3));
      expect(report.valid).toBe(false);
      expect(codes(report)).toContain(code);
      expect(() => assertValid(report)).toThrow(DataValidationError);
    });

    it('a declared delimiter the file does not use', async () => {
      const semi = good.replaceAll(',', ';');
      const report = await validateDataset(sourceFromText(semi), { schema: { delimiter: ',', timestampColumn: 'timestamp', sensorColumns: [{ name: 'a' }] } });
      expect(report.fatalErrors[0]).toMatchObject({ code: 'DELIMITER_MISMATCH', line: 1 });
      expect(report.fatalErrors[0].message).toContain('";"');
    });

    it('binary garbage', async () => {
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
      const report = await validateDataset(chunked(bytes, 512));
      expect(codes(report)).toEqual(['BINARY_CONTENT']);
    });

    it('non-UTF-8 text, with the line', async () => {
      const latin1 = Buffer.from('timestamp,temp\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,2 \xb0C\n', 'latin1');
      const report = await validateDataset(chunked(latin1, 1000));
      expect(report.fatalErrors).toEqual([expect.objectContaining({ code: 'INVALID_ENCODING', line: 3 })]);
    });

    it('UTF-16 text', async () => {
      const report = await validateDataset(chunked(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('timestamp,a\n', 'utf16le')])));
      expect(codes(report)).toEqual(['UNSUPPORTED_ENCODING']);
    });

    it('a corrupt gzip stream', async () => {
      const gz = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(100, 0x55)]);
      const report = await validateDataset(chunked(gz, 50));
      expect(codes(report)).toEqual(['DECOMPRESSION_FAILED']);
    });

    it('a line longer than the cap', async () => {
      const report = await validateDataset(chunked(`timestamp,a\n2024-01-01T00:00:00Z,${'9'.repeat(5000)}\n`, 512), { maxLineBytes: 1024 });
      expect(report.fatalErrors).toEqual([expect.objectContaining({ code: 'LINE_TOO_LONG', line: 2 })]);
    });
  });

  it('reads gzip CSV like plain CSV', async () => {
    const report = await validateDataset(gzipped(good));
    expect(report.valid).toBe(true);
    expect(report.counts.rows).toBe(50);
  });

  it('rethrows source failures (not a data problem)', async () => {
    const failing = (async function* () {
      yield Buffer.from('timestamp,a\n');
      throw new Error('socket hang up');
    })();
    await expect(validateDataset(failing)).rejects.toThrow('socket hang up');
  });

  it('DataValidationError carries the issues for a 422 problem', () => {
    const e = DataValidationError.of('EMPTY_FILE', 'empty');
    expect(e).toMatchObject({ status: 422, type: 'data-invalid', code: 'EMPTY_FILE', details: { issues: [{ code: 'EMPTY_FILE', message: 'empty' }] } });
  });
});
