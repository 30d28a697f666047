import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { runDlqList, runDlqRedrive } from '../../bin/dlq.js';
import { useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();
/** The ingest queue's URL, as a client outside the functions finds it. */
const ingestQueueUrl = async (sqs: SQSClient) => (await sqs.send(new GetQueueUrlCommand({ QueueName: 'telltale-local-ingest.fifo' }))).QueueUrl!;

function captured() {
  const out: string[] = [];
  const log: string[] = [];
  return { out, log, io: { out: (t: string) => out.push(t), log: (m: string) => log.push(m) } };
}

async function until(condition: () => boolean, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('telltale dlq list|redrive against the local cloud, over the SQS API', () => {
  it('lists what landed in the ingest dead-letter queue and moves it back to the queue', async () => {
    const endpoint = local.cloud.endpoints.messaging;
    const sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    // Not a readings message: storeReadings fails it until it goes to the dead letters.
    await sqs.send(new SendMessageCommand({ QueueUrl: await ingestQueueUrl(sqs), MessageBody: '{"poison":true}', MessageGroupId: 'poison', MessageDeduplicationId: 'poison-1' }));
    await until(() => local.cloud.deadLetters('ingest').length === 1);

    const list = captured();
    expect(await runDlqList({ endpoint }, ['ingest'], list.io)).toBe(0);
    expect(list.out.map((line) => JSON.parse(line))).toEqual([{ messageId: expect.any(String), receiveCount: 5, sentAt: expect.any(String), body: '{"poison":true}' }]);
    expect(list.log[0]).toMatch(/^1 message\(s\) in .*telltale-local-ingest-dlq\.fifo/);
    // A second listing within the visibility timeout sees nothing, as on SQS.
    const again = captured();
    await runDlqList({ endpoint }, ['ingest'], again.io);
    expect(again.out).toEqual([]);

    const redrive = captured();
    expect(await runDlqRedrive({ endpoint }, ['ingest'], redrive.io)).toBe(0);
    expect(redrive.log[0]).toMatch(/telltale-local-ingest-dlq\.fifo back to arn:aws:sqs:.*:telltale-local-ingest\.fifo$/);
    expect(local.cloud.deadLetters('ingest')).toEqual([]);
    // Back on the ingest queue, delivered to the writer again (and failed again: it is still poison).
    await until(() => local.cloud.deadLetters('ingest').length === 1);
  });

  it('explains an unknown queue in one line', async () => {
    await expect(runDlqList({ endpoint: local.cloud.endpoints.messaging }, ['nope'], captured().io)).rejects.toThrow(/QueueDoesNotExist/);
  });
});
