import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, webhookHeaders } from '../shared/monitoring/alertDelivery.js';
import { localAccount, localRegion } from './lambdaRuntime.js';

/** A notification the local cloud sent: an SNS message to an email address or a phone, or a webhook it received. */
export interface OutboxEntry {
  id: string;
  at: string;
  channel: 'email' | 'sms' | 'webhook';
  to: string;
  subject?: string;
  body: string;
  /** Webhooks: the delivery's idempotency key, and whether its signature matched a stored secret. */
  idempotencyKey?: string;
  signatureValid?: boolean;
}

interface Subscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  filterPolicy?: Record<string, unknown[]>;
}

/** Entries kept, newest last: the page shows what happened lately. */
const kept = 1000;
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The local cloud's outbox. SNS runs here in process (CreateTopic, Subscribe, Publish through the
 * messaging endpoint's query protocol): a message published to a topic lands in the outbox once per
 * subscription its attributes match, as SNS would send it. A webhook receiver on its own port takes
 * deliveries like any HTTP endpoint and records them, checking their signatures against the secrets
 * of the local parameter store. `/local/outbox` shows both.
 */
export class LocalOutbox {
  private readonly list: OutboxEntry[] = [];
  private readonly topics = new Set<string>();
  private readonly subscriptions: Subscription[] = [];
  private receiver?: Server;

  /** `secrets` lists the signing secrets the receiver may check signatures with. */
  constructor(private readonly secrets: () => Iterable<string> = () => []) {}

  entries(): OutboxEntry[] {
    return [...this.list];
  }

  private record(entry: Omit<OutboxEntry, 'id' | 'at'>): void {
    this.list.push({ id: crypto.randomUUID(), at: new Date().toISOString(), ...entry });
    if (this.list.length > kept) this.list.splice(0, this.list.length - kept);
  }

  /** One SNS query-protocol request (form parameters): the XML answer, or an SNS error. */
  snsRequest(params: URLSearchParams): { status: number; xml: string } {
    const action = params.get('Action') ?? '';
    const requestId = crypto.randomUUID();
    const ok = (result: string) => ({ status: 200, xml: `<${action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>` });
    const fail = (code: string, message: string, status = 400) => ({ status, xml: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>` });
    const entries = (prefix: string, key: string, value: string) => {
      const found: Record<string, string> = {};
      for (let i = 1; params.has(`${prefix}.entry.${i}.${key}`); i++) found[params.get(`${prefix}.entry.${i}.${key}`)!] = params.get(`${prefix}.entry.${i}.${value}`) ?? '';
      return found;
    };
    const topicArn = params.get('TopicArn') ?? '';
    switch (action) {
      case 'CreateTopic': {
        const name = params.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) return fail('InvalidParameter', 'Invalid parameter: Topic Name');
        const arn = `arn:aws:sns:${localRegion}:${localAccount}:${name}`;
        this.topics.add(arn);
        return ok(`<TopicArn>${arn}</TopicArn>`);
      }
      case 'Subscribe': {
        if (!this.topics.has(topicArn)) return fail('NotFound', 'Topic does not exist', 404);
        const attributes = entries('Attributes', 'key', 'value');
        const protocol = params.get('Protocol') ?? '';
        const endpoint = params.get('Endpoint') ?? '';
        let subscription = this.subscriptions.find((s) => s.topicArn === topicArn && s.protocol === protocol && s.endpoint === endpoint);
        if (!subscription) {
          subscription = { arn: `${topicArn}:${crypto.randomUUID()}`, topicArn, protocol, endpoint };
          this.subscriptions.push(subscription);
        }
        if (attributes.FilterPolicy) subscription.filterPolicy = JSON.parse(attributes.FilterPolicy) as Record<string, unknown[]>;
        // Email subscriptions wait for the address to confirm on AWS; the local cloud takes them as confirmed.
        return ok(`<SubscriptionArn>${subscription.arn}</SubscriptionArn>`);
      }
      case 'Publish': {
        if (!this.topics.has(topicArn)) return fail('NotFound', 'Topic does not exist', 404);
        const message = params.get('Message');
        if (!message) return fail('InvalidParameter', 'Invalid parameter: Empty message');
        const names = entries('MessageAttributes', 'Name', 'Value.StringValue');
        for (const s of this.subscriptions.filter((s) => s.topicArn === topicArn)) {
          const matches = Object.entries(s.filterPolicy ?? {}).every(([name, allowed]) => names[name] !== undefined && allowed.includes(names[name]));
          if (!matches || (s.protocol !== 'email' && s.protocol !== 'sms')) continue;
          this.record({ channel: s.protocol, to: s.endpoint, ...(s.protocol === 'email' ? { subject: params.get('Subject') ?? '' } : {}), body: message });
        }
        return ok(`<MessageId>${crypto.randomUUID()}</MessageId>`);
      }
      default:
        return fail('InvalidAction', `The local cloud does not implement SNS ${action || 'this request'}.`);
    }
  }

  /** Starts the webhook receiver; deliveries to `<url>/<anything>` are answered 200 and recorded. */
  async startReceiver(host = '127.0.0.1'): Promise<string> {
    this.receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => request.headers[name] as string | undefined;
        const signed = { timestamp: header(webhookHeaders.timestamp), signature: header(webhookHeaders.signature) };
        this.record({
          channel: 'webhook',
          to: `${request.method} ${request.url}`,
          body,
          idempotencyKey: header(webhookHeaders.idempotencyKey),
          signatureValid: [...this.secrets()].some((secret) => verifyWebhook(secret, signed, body)),
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      });
    });
    await new Promise<void>((resolve, reject) => this.receiver!.once('error', reject).listen(0, host, () => resolve()));
    return `http://${host}:${(this.receiver.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.receiver?.listening) return resolve();
      this.receiver.close(() => resolve());
      this.receiver.closeAllConnections();
    });
  }

  /** The outbox page: newest first, refreshing itself every 5 seconds. */
  page(): string {
    const rows = [...this.list]
      .reverse()
      .map(
        (e) => `<tr><td>${escape(e.at.slice(11, 19))}</td><td>${e.channel}</td><td>${escape(e.to)}</td><td>${e.subject ? `<b>${escape(e.subject)}</b><br>` : ''}<pre>${escape(e.body)}</pre></td><td>${
          e.channel === 'webhook' ? `${e.signatureValid ? 'signature valid' : 'signature NOT valid'}<br><code>${escape(e.idempotencyKey ?? '')}</code>` : ''
        }</td></tr>`,
      )
      .join('');
    return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Telltale local outbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}pre{white-space:pre-wrap;margin:0;max-width:70em}</style></head>
<body><h1>Outbox</h1><p>Email and SMS that SNS would have sent, and webhook deliveries the local receiver took, newest first (${this.list.length}). Alert rules: <code>/api/v1/monitoring/alerts</code>; the API reference is at <a href="/docs">/docs</a>.</p>
<table><tr><th>time (UTC)</th><th>channel</th><th>to</th><th>message</th><th>webhook</th></tr>${rows || '<tr><td colspan="5">Nothing sent yet.</td></tr>'}</table></body></html>`;
  }
}
