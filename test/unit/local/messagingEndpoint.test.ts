import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../../local/eventBus.js';
import { FaultPlan } from '../../../local/faults.js';
import { createMessagingEndpoint } from '../../../local/messagingEndpoint.js';
import { QueueDispatcher } from '../../../local/queueDispatcher.js';
import { LocalStateMachines } from '../../../local/stateMachines.js';

const plan = new FaultPlan();
const bus = new EventBus({ name: 'test-bus' });
const delivered: EventBridgeEvent<string, { n: number }>[] = [];
bus.addRule({
  name: 'all',
  detailTypes: ['thing.happened'],
  fn: { spec: { name: 'target', memoryMb: 128, timeoutSeconds: 5 }, handler: async (event: never) => void delivered.push(event) },
});
const endpoint = createMessagingEndpoint(new QueueDispatcher([]), bus, new LocalStateMachines(), plan);
let client: EventBridgeClient;

beforeAll(async () => {
  client = new EventBridgeClient({ region: 'us-east-1', endpoint: await endpoint.start(), credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});
afterAll(async () => {
  client.destroy();
  bus.stop();
  await endpoint.stop();
});

const entries = (ns: number[]) => ns.map((n) => ({ EventBusName: 'test-bus', Source: 'test', DetailType: 'thing.happened', Detail: JSON.stringify({ n }) }));
const settle = async () => {
  while (!bus.idle()) await new Promise((resolve) => setTimeout(resolve, 2));
};

describe('messaging endpoint: EventBridge partial failures', () => {
  it('answers FailedEntryCount > 0 with per-entry errors and puts only the accepted entries on the bus', async () => {
    plan.set('events:PutEvents=partial:0.5#1');
    const out = await client.send(new PutEventsCommand({ Entries: entries([1, 2, 3, 4]) }));
    expect(out.FailedEntryCount).toBeGreaterThan(0);
    expect(out.FailedEntryCount).toBeLessThan(4);
    const failed = out.Entries!.flatMap((entry, i) => (entry.ErrorCode ? [i + 1] : []));
    expect(failed).toHaveLength(out.FailedEntryCount!);
    expect(out.Entries!.filter((e) => e.ErrorCode).every((e) => e.ErrorCode === 'InternalFailure' && !e.EventId)).toBe(true);
    await settle();
    expect(delivered.map((e) => e.detail.n).sort()).toEqual([1, 2, 3, 4].filter((n) => !failed.includes(n)));
  });

  it('accepts every entry again once the fault has fired', async () => {
    delivered.length = 0;
    const out = await client.send(new PutEventsCommand({ Entries: entries([5]) }));
    expect(out.FailedEntryCount).toBe(0);
    await settle();
    expect(delivered.map((e) => e.detail.n)).toEqual([5]);
  });
});
