import { describe, expect, it } from 'vitest';
import { sourceFromRecords, sourceFromText } from '../../../shared/data/byte-source.js';
import { DataValidationError } from '../../../shared/data/errors.js';
import { openTable, type RowBatch, type TableOptions } from '../../../shared/data/table-reader.js';
import { CELL_MISSING, lastCellStatus, numberFromBytes } from '../../../shared/data/cells.js';
import { formatTimestamp, lastTimestampKind, parseTimestamp, TIMESTAMP_EPOCH, TIMESTAMP_NAIVE, TIMESTAMP_ZONED } from '../../../shared/data/timestamp.js';
import type { ByteSource } from '../../../shared/data/byte-source.js';
import { chunked, gzipped } from './helpers.js';

interface Rows {
  lines: number[];
  times: number[];
  values: number[][];
  ragged: number[];
}

async function readAll(source: ByteSource, schema?: TableOptions['schema']) {
  const table = await openTable(source, { schema });
  const rows: Rows = { lines: [], times: [], values: [], ragged: [] };
  for await (const b of table.batches() as AsyncGenerator<RowBatch>) {
    for (let k = 0; k < b.count; k++) {
      rows.lines.push(b.line[k]);
      rows.times.push(b.time[k]);
      rows.values.push(b.values.map((v) => v[k]));
      rows.ragged.push(b.ragged[k]);
    }
  }
  return { table, rows };
}

describe('parseTimestamp', () => {
  it.each([
    ['2024-01-31T12:00:00Z', Date.UTC(2024, 0, 31, 12), TIMESTAMP_ZONED],
    ['2024-01-31T14:00:00+02:00', Date.UTC(2024, 0, 31, 12), TIMESTAMP_ZONED],
    ['2024-01-31T07:30:00-0430', Date.UTC(2024, 0, 31, 12), TIMESTAMP_ZONED],
    ['2024-01-31 12:00:00', Date.UTC(2024, 0, 31, 12), TIMESTAMP_NAIVE],
    ['2024-01-31T12:00:00.250Z', Date.UTC(2024, 0, 31, 12, 0, 0, 250), TIMESTAMP_ZONED],
    ['2024/01/31 12:00', Date.UTC(2024, 0, 31, 12), TIMESTAMP_NAIVE],
    ['2024-01-31', Date.UTC(2024, 0, 31), TIMESTAMP_NAIVE],
    ['1706702400', Date.UTC(2024, 0, 31, 12), TIMESTAMP_EPOCH],
    ['1706702400000', Date.UTC(2024, 0, 31, 12), TIMESTAMP_EPOCH],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29), TIMESTAMP_ZONED],
  ])('reads %s', (text, ms, kind) => {
    expect(parseTimestamp(text)).toBe(ms);
    expect(lastTimestampKind()).toBe(kind);
  });

  it.each(['2023-02-29T00:00:00Z', '2024-13-01', '2024-01-32', 'yesterday', '12:00', '2024-01-31T25:00:00', '2024-01-31T12:00:00+2', ''])('rejects %j', (text) => {
    expect(parseTimestamp(text)).toBeNaN();
  });

  it('formats epoch ms as ISO 8601 UTC', () => {
    expect(formatTimestamp(Date.UTC(2024, 0, 31, 12, 5, 7))).toBe('2024-01-31T12:05:07Z');
    expect(formatTimestamp(Date.UTC(1999, 11, 31, 23, 59, 59, 5))).toBe('1999-12-31T23:59:59.005Z');
  });
});

describe('openTable', () => {
  it.each([
    [',', 'comma'],
    [';', 'semicolon'],
    ['\t', 'tab'],
  ])('detects the %j delimiter (%s)', async (d) => {
    const text = `time${d}a${d}b\n2024-01-01T00:00:00Z${d}1.5${d}2\n2024-01-01T00:00:01Z${d}-3${d}4e2\n`;
    const { table, rows } = await readAll(chunked(text, 5));
    expect(table.layout.delimiter).toBe(d);
    expect(rows.values).toEqual([
      [1.5, 2],
      [-3, 400],
    ]);
  });

  it('handles CRLF, a BOM, blank lines and chunks that split every character', async () => {
    const text = '\uFEFFtime,température\r\n2024-01-01T00:00:00Z,1\r\n\r\n2024-01-01T00:00:01Z,2\r\n';
    const { table, rows } = await readAll(chunked(text, 1));
    expect(table.layout.header).toEqual(['time', 'température']);
    expect(rows.values).toEqual([[1], [2]]);
    expect(rows.lines).toEqual([2, 4]);
    expect(table.counts.blankLines).toBe(1);
  });

  it('reads quoted fields with delimiters, escaped quotes and line breaks', async () => {
    const text = 'time,"a,b",note,v\n2024-01-01T00:00:00Z,"1.5","say ""hi""",2\n2024-01-01T00:00:01Z,3,"two\nlines",4\n2024-01-01T00:00:02Z,5,x,6\n';
    const { table, rows } = await readAll(chunked(text), { timestampColumn: 'time', sensorColumns: [{ name: 'a,b' }, { name: 'v' }] });
    expect(table.layout.header).toEqual(['time', 'a,b', 'note', 'v']);
    expect(rows.values).toEqual([
      [1.5, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(rows.lines).toEqual([2, 3, 5]);
  });

  it('inflates gzip by its magic bytes', async () => {
    const { rows } = await readAll(gzipped('ts,x\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,2\n'));
    expect(rows.values).toEqual([[1], [2]]);
  });

  it('reads JSON Lines, with epoch and missing keys', async () => {
    const source = sourceFromRecords([
      { time: 1704067200, temp: 20.5, state: 'on' },
      { time: 1704067201, temp: null },
      { time: 1704067202, temp: '21' },
    ]);
    const { table, rows } = await readAll(source);
    expect(table.layout.format).toBe('jsonl');
    expect(table.layout.schema.sensorColumns.map((c) => c.name)).toEqual(['temp']);
    expect(table.layout.ignoredColumns).toEqual(['state']);
    expect(rows.times[0]).toBe(Date.UTC(2024, 0, 1));
    expect(rows.values).toEqual([[20.5], [Number.NaN], [21]]);
  });

  it('infers the schema: time column, numeric sensors, a 0/1 label, the interval', async () => {
    const text = 'id,datetime,p,mode,anomaly\nA,2024-01-01 00:00:00,1,x,0\nB,2024-01-01 00:00:10,2,y,1\nC,2024-01-01 00:00:20,3,z,0\n';
    const { table } = await readAll(sourceFromText(text));
    expect(table.layout.schema).toMatchObject({ timestampColumn: 'datetime', sensorColumns: [{ name: 'p' }], labelColumn: 'anomaly', expectedIntervalSeconds: 10 });
    expect(table.layout.ignoredColumns).toEqual(['id', 'mode']);
  });

  it('reads every cell on the one-pass paths exactly as the general parsers read it', async () => {
    const numbers = ['1', '-0', '+2.5', '10.1234', '.5', '5.', '007', '123456789', '1234567890.12345', '1234567890123456', '99999999999999.9', '1e5', '-', '.', '1.2.3', ' 5', '5 ', 'NA', '', '+-1', 'abc', '0x10', '2147483648', '-2147483649.5'];
    const times = ['2024-01-31T12:00:00Z', '2024-01-31 12:00:00', '2024-01-31T12:00:00.250Z', '2024-01-31T12:00:00,25', '2024-01-31T12:00:00.1234567Z', '2024-01-31T12:00:00.Z', '2024-02-29T23:59:59Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-01-31T24:00:00Z', '2024-06-30T23:59:60Z', '2024-01-31T12:00:00+02:00', '2024-01-31t12:00:00z', '2024/01/31 12:00:00', '1706702400', ' 2024-01-31T12:00:00Z', '2024-01-31T12:00:00Z ', '2024-01-31T12:00', '2024-1-31T12:00:00Z', ''];
    for (const d of [',', ';']) {
      for (const eol of ['\n', '\r\n']) {
        const lines = ['time,a,b,label'.replaceAll(',', d)];
        const expected: { time: number; kind: number; a: number; status: number; b: number; label: number }[] = [];
        const bytes = (s: string) => Buffer.from(s);
        const cellTimes = times.filter((t) => !t.includes(d));
        for (let i = 0; i < Math.max(numbers.length, cellTimes.length); i++) {
          const t = cellTimes[i % cellTimes.length];
          const a = numbers[i % numbers.length];
          const b = numbers[(i * 7 + 3) % numbers.length];
          const label = numbers[(i * 5 + 1) % numbers.length];
          lines.push([t, a, b, label].join(d));
          const time = t === '' ? Number.NaN : parseTimestamp(t);
          const kind = t === '' ? 4 : lastTimestampKind();
          const num = (x: string) => numberFromBytes(bytes(x), 0, bytes(x).length);
          const labelValue = num(label);
          const labelMissing = lastCellStatus() === CELL_MISSING;
          const aValue = num(a);
          expected.push({ time, kind, a: aValue, status: lastCellStatus(), b: num(b), label: labelMissing ? Number.NaN : labelValue });
        }
        const schema = { timestampColumn: 'time', sensorColumns: [{ name: 'a' }, { name: 'b' }], labelColumn: 'label', delimiter: d as ',' | ';' };
        const table = await openTable(chunked(lines.join(eol), 1000), { schema });
        const got: typeof expected = [];
        for await (const batch of table.batches()) for (let k = 0; k < batch.count; k++) got.push({ time: batch.time[k], kind: batch.timeKind[k], a: batch.values[0][k], status: batch.status[0][k], b: batch.values[1][k], label: (batch.label as Float64Array)[k] });
        expect(got, `delimiter ${JSON.stringify(d)}, line end ${JSON.stringify(eol)}`).toEqual(expected);
      }
    }
  });

  it('marks ragged rows and reads what is there', async () => {
    const { rows } = await readAll(sourceFromText('t,a,b\n2024-01-01T00:00:00Z,1,2\n2024-01-01T00:00:01Z,3\n2024-01-01T00:00:02Z,4,5,6\n'));
    expect(rows.ragged).toEqual([0, 1, 1]);
    expect(rows.values[1]).toEqual([3, Number.NaN]);
  });

  it('stops at the line cap without reading the rest of a huge single line', async () => {
    let pulled = 0;
    let closed = false;
    const endless: ByteSource = {
      [Symbol.asyncIterator]() {
        return {
          next: async () => {
            pulled++;
            return { done: false, value: Buffer.alloc(65_536, 0x61) };
          },
          return: async () => {
            closed = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    const error = await openTable(endless).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).code).toBe('LINE_TOO_LONG');
    expect(pulled).toBeLessThanOrEqual(18);
    expect(closed).toBe(true);
  });
});
