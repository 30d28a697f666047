import { QueryCommand, TimestreamQueryClient, type Row } from '@aws-sdk/client-timestream-query';
import { MeasureValueType, RejectedRecordsException, TimestreamWriteClient, WriteRecordsCommand, type _Record } from '@aws-sdk/client-timestream-write';
import type { PutResult, ReadingsStore, StoredReading } from '../sensors/readingsStore.js';
import { awsConfig, once, traced } from './clients.js';
import { translateAwsError } from './errors.js';

export interface TimestreamReadingsStoreOptions {
  database: string;
  table: string;
}

// Timestream discovers its own endpoints (no emulator has it: tests use aws-sdk-client-mock).
const writer = once(() => traced(new TimestreamWriteClient({ region: awsConfig().AWS_REGION })));
const reader = once(() => traced(new TimestreamQueryClient({ region: awsConfig().AWS_REGION })));

/** WriteRecords takes at most 100 records a call. */
const recordsPerCall = 100;
const readingMeasure = 'reading';
const scoreMeasure = 'score';
/** Ids are checked against a safe alphabet before they reach here; quotes are doubled all the same. */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Readings in Timestream for LiveAnalytics: one multi-measure record per reading (measure
 * `reading`: value, quality, late) and one per score (measure `score`: score, label), with
 * dimensions tenant and sensorId, time in milliseconds, version 1. Timestream keeps one record per
 * (dimensions, time, measure): writing the same one again is accepted, a different one with the
 * same version is rejected with its ExistingVersion, which is what a duplicate is here (the first
 * value wins, as in the DynamoDB store).
 */
export function timestreamReadingsStore(options: TimestreamReadingsStoreOptions): ReadingsStore {
  const table = `"${options.database}"."${options.table}"`;
  const dimensions = (tenant: string, sensorId: string) => [
    { Name: 'tenant', Value: tenant },
    { Name: 'sensorId', Value: sensorId },
  ];

  /** Writes records 100 at a time; answers how many were rejected as existing records. Other rejections are errors. */
  const write = async (records: _Record[]): Promise<number> => {
    let existing = 0;
    for (let i = 0; i < records.length; i += recordsPerCall) {
      try {
        await writer().send(new WriteRecordsCommand({ DatabaseName: options.database, TableName: options.table, Records: records.slice(i, i + recordsPerCall) }));
      } catch (error) {
        if (!(error instanceof RejectedRecordsException)) throw translateAwsError('Timestream', error);
        const rejected = error.RejectedRecords ?? [];
        const other = rejected.filter((r) => r.ExistingVersion === undefined);
        if (other.length > 0) throw new Error(`Timestream rejected ${other.length} record(s): ${other[0].Reason ?? 'no reason given'}`, { cause: error });
        existing += rejected.length;
      }
    }
    return existing;
  };

  const query = async function* (sql: string): AsyncGenerator<Row> {
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await reader().send(new QueryCommand({ QueryString: sql, NextToken: nextToken }));
      } catch (error) {
        throw translateAwsError('Timestream', error);
      }
      yield* page.Rows ?? [];
      nextToken = page.NextToken;
    } while (nextToken);
  };
  const scalar = (row: Row, i: number) => row.Data?.[i]?.ScalarValue;
  /** Timestream prints times as `2026-01-01 00:00:00.000000000` (UTC, nanoseconds). */
  const epochOf = (time: string) => Date.parse(`${time.slice(0, 23).replace(' ', 'T')}Z`);

  return {
    async put(tenant, sensorId, readings): Promise<PutResult> {
      if (readings.length === 0) return { stored: 0, duplicates: 0, late: 0, lateTimestamps: [] };
      const oldest = Math.min(...readings.map((r) => r.timestamp));
      // Late means older than a stored reading of another message: this message's own readings, stored by an
      // attempt that failed part way, do not count (usually nothing newer is stored, so this reads no row).
      const own = new Set(readings.map((r) => r.timestamp));
      let newest = Number.NEGATIVE_INFINITY;
      for await (const row of query(
        `SELECT time FROM ${table} WHERE tenant = ${literal(tenant)} AND sensorId = ${literal(sensorId)} AND measure_name = '${readingMeasure}' AND time > from_milliseconds(${oldest})`,
      )) {
        const at = scalar(row, 0);
        const ms = at ? epochOf(at) : Number.NEGATIVE_INFINITY;
        if (!own.has(ms) && ms > newest) newest = ms;
      }
      const lateTimestamps = readings.filter((r) => r.timestamp < newest).map((r) => r.timestamp);
      const lateSet = new Set(lateTimestamps);
      const records: _Record[] = readings.map((r) => ({
        Dimensions: dimensions(tenant, sensorId),
        MeasureName: readingMeasure,
        MeasureValueType: MeasureValueType.MULTI,
        MeasureValues: [
          { Name: 'value', Value: String(r.value), Type: MeasureValueType.DOUBLE },
          ...(r.quality !== undefined ? [{ Name: 'quality', Value: String(r.quality), Type: MeasureValueType.DOUBLE }] : []),
          { Name: 'late', Value: String(lateSet.has(r.timestamp)), Type: MeasureValueType.BOOLEAN },
        ],
        Time: String(r.timestamp),
        TimeUnit: 'MILLISECONDS',
        Version: 1,
      }));
      const duplicates = await write(records);
      return { stored: readings.length - duplicates, duplicates, late: lateTimestamps.length, lateTimestamps };
    },

    async putScores(tenant, sensorId, scores) {
      await write(
        scores.map((s) => ({
          Dimensions: dimensions(tenant, sensorId),
          MeasureName: scoreMeasure,
          MeasureValueType: MeasureValueType.MULTI,
          MeasureValues: [
            { Name: 'score', Value: String(s.score), Type: MeasureValueType.DOUBLE },
            { Name: 'label', Value: String(s.label), Type: MeasureValueType.BIGINT },
          ],
          Time: String(s.timestamp),
          TimeUnit: 'MILLISECONDS',
          Version: 1,
        })),
      );
    },

    async *range(tenant, sensorId, from, to) {
      if (to <= from) return;
      // One row per time: the reading's measures beside its score's (a score without a reading is left out).
      const sql =
        `SELECT r.time, r.value, r.quality, r.late, s.score, s.label FROM ` +
        `(SELECT time, value, quality, late FROM ${table} WHERE tenant = ${literal(tenant)} AND sensorId = ${literal(sensorId)} AND measure_name = '${readingMeasure}' AND time >= from_milliseconds(${from}) AND time < from_milliseconds(${to})) r ` +
        `LEFT JOIN (SELECT time, score, label FROM ${table} WHERE tenant = ${literal(tenant)} AND sensorId = ${literal(sensorId)} AND measure_name = '${scoreMeasure}' AND time >= from_milliseconds(${from}) AND time < from_milliseconds(${to})) s ` +
        `ON r.time = s.time ORDER BY r.time`;
      for await (const row of query(sql)) {
        const reading: StoredReading = { timestamp: epochOf(scalar(row, 0)!), value: Number(scalar(row, 1)) };
        const quality = scalar(row, 2);
        if (quality !== undefined) reading.quality = Number(quality);
        if (scalar(row, 3) === 'true') reading.late = true;
        const score = scalar(row, 4);
        if (score !== undefined) {
          reading.score = Number(score);
          reading.label = scalar(row, 5) === '1' ? 1 : 0;
        }
        yield reading;
      }
    },
  };
}
