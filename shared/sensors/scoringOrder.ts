import type { SQSRecord } from 'aws-lambda';
import { readingsMessage, type ReadingsMessage } from './readingMessages.js';

/**
 * A batch's records grouped by sensor and each sensor's in order of its first reading: the FIFO
 * scoring queue already delivers a sensor's messages in send order, and the stable sort keeps it so;
 * a message scored after a later one of its sensor would find its readings late. A record whose body is not a readings message sorts last and fails when its turn
 * comes (to its redeliveries, then the dead-letter queue).
 */
export function scoringOrder(records: readonly SQSRecord[]): { records: SQSRecord[]; messageOf(record: SQSRecord): ReadingsMessage } {
  const parsed = new Map<string, ReadingsMessage | Error>();
  for (const r of records) {
    try {
      parsed.set(r.messageId, readingsMessage.parse(JSON.parse(r.body)));
    } catch (error) {
      parsed.set(r.messageId, error as Error);
    }
  }
  const sortKey = (r: SQSRecord): [string, number] => {
    const m = parsed.get(r.messageId);
    return m instanceof Error || !m ? ['\uffff', 0] : [`${m.tenant}\u0000${m.sensorId}`, m.readings[0]?.timestamp ?? 0];
  };
  const sorted = [...records].sort((a, b) => {
    const [ka, ta] = sortKey(a);
    const [kb, tb] = sortKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : ta - tb;
  });
  return {
    records: sorted,
    messageOf(record) {
      const m = parsed.get(record.messageId);
      if (m instanceof Error || !m) throw m ?? new Error(`Record ${record.messageId} was not in the batch`);
      return m;
    },
  };
}
