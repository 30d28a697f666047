import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { RejectedRecordsException, TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { timestreamReadingsStore } from '../../../shared/aws/timestreamReadingsStore.js';
import { DependencyError } from '../../../shared/platform/errors.js';

// No emulator runs Timestream, so the SDK calls are answered by aws-sdk-client-mock.
const write = mockClient(TimestreamWriteClient);
const query = mockClient(TimestreamQueryClient);
const store = timestreamReadingsStore({ database: 'telltale', table: 'readings' });
const t0 = Date.UTC(2026, 0, 1);
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000000');
const rejected = (records: { RecordIndex: number; Reason: string; ExistingVersion?: number }[]) =>
  new RejectedRecordsException({ message: 'rejected', $metadata: {}, RejectedRecords: records });

describe('the Timestream readings store', () => {
  afterEach(() => {
    write.reset();
    query.reset();
  });

  it('writes 100 records a call, counts records existing with another value as duplicates, and marks late ones', async () => {
    // Stored already: a reading of another message at 149.5 s, and one of this message's own (an earlier attempt's), which does not count.
    query.on(QueryCommand).resolves({ Rows: [{ Data: [{ ScalarValue: time(t0 + 149_500) }] }, { Data: [{ ScalarValue: time(t0 + 200_000) }] }] });
    write.on(WriteRecordsCommand).resolvesOnce({}).rejectsOnce(rejected([{ RecordIndex: 3, Reason: 'A record with the same time exists with a different value.', ExistingVersion: 1 }])).resolves({});
    const readings = Array.from({ length: 250 }, (_, i) => ({ timestamp: t0 + i * 1000, value: i, ...(i === 0 ? { quality: 192 } : {}) }));

    const result = await store.put('acme', 'p1', readings);

    expect(result).toMatchObject({ stored: 249, duplicates: 1, late: 150 });
    const calls = write.commandCalls(WriteRecordsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Records!.length)).toEqual([100, 100, 50]);
    expect(calls[0]).toMatchObject({ DatabaseName: 'telltale', TableName: 'readings' });
    expect(calls[0].Records![0]).toMatchObject({
      Dimensions: [{ Name: 'tenant', Value: 'acme' }, { Name: 'sensorId', Value: 'p1' }],
      MeasureName: 'reading',
      MeasureValueType: 'MULTI',
      MeasureValues: [{ Name: 'value', Value: '0' }, { Name: 'quality', Value: '192' }, { Name: 'late', Value: 'true' }],
      Time: String(t0),
      TimeUnit: 'MILLISECONDS',
      Version: 1,
    });
    expect(calls[2].Records![49].MeasureValues).toContainEqual({ Name: 'late', Value: 'false', Type: 'BOOLEAN' });
    expect(query.commandCalls(QueryCommand)[0].args[0].input.QueryString).toContain(`time > from_milliseconds(${t0})`);
  });

  it("a message sent again after a put that failed part way: its own stored readings make none of it late", async () => {
    query.on(QueryCommand).resolves({ Rows: [{ Data: [{ ScalarValue: time(t0 + 5_000) }] }, { Data: [{ ScalarValue: time(t0 + 9_000) }] }] });
    write.on(WriteRecordsCommand).resolves({});
    const readings = Array.from({ length: 10 }, (_, i) => ({ timestamp: t0 + i * 1000, value: i }));

    expect(await store.put('acme', 'p1', readings)).toMatchObject({ stored: 10, late: 0, lateTimestamps: [] });
  });

  it('fails on rejections that are not existing records, and turns throttling into a retryable 503', async () => {
    query.on(QueryCommand).resolves({ Rows: [] });
    write.on(WriteRecordsCommand).rejects(rejected([{ RecordIndex: 0, Reason: 'The record timestamp is outside the time range of the data ingestion window.' }]));
    await expect(store.put('acme', 'p1', [{ timestamp: t0, value: 1 }])).rejects.toThrow('outside the time range');
    write.reset();
    write.on(WriteRecordsCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(store.putScores('acme', 'p1', [{ timestamp: t0, score: 0.5, label: 0 }])).rejects.toBeInstanceOf(DependencyError);
  });

  it('writes scores as their own measure and reads readings joined with their scores, page after page', async () => {
    write.on(WriteRecordsCommand).resolves({});
    await store.putScores('acme', 'p1', [{ timestamp: t0, score: 0.75, label: 1 }]);
    expect(write.commandCalls(WriteRecordsCommand)[0].args[0].input.Records![0]).toMatchObject({
      MeasureName: 'score',
      MeasureValues: [{ Name: 'score', Value: '0.75', Type: 'DOUBLE' }, { Name: 'label', Value: '1', Type: 'BIGINT' }],
    });
    query
      .on(QueryCommand)
      .resolvesOnce({ Rows: [{ Data: [{ ScalarValue: time(t0) }, { ScalarValue: '1.5' }, { NullValue: true }, { ScalarValue: 'false' }, { ScalarValue: '0.75' }, { ScalarValue: '1' }] }], NextToken: 'next' })
      .resolvesOnce({ Rows: [{ Data: [{ ScalarValue: time(t0 + 1000) }, { ScalarValue: '2' }, { ScalarValue: '3' }, { ScalarValue: 'true' }, { NullValue: true }, { NullValue: true }] }] });
    const out = [];
    for await (const r of store.range('acme', 'p1', t0, t0 + 2000)) out.push(r);
    expect(out).toEqual([
      { timestamp: t0, value: 1.5, score: 0.75, label: 1 },
      { timestamp: t0 + 1000, value: 2, quality: 3, late: true },
    ]);
    expect(query.commandCalls(QueryCommand)[1].args[0].input.NextToken).toBe('next');
  });
});
