/**
 * The stateful resources, declared once. The CDK data stack, the repositories and the embedded
 * local cloud all read these declarations; nobody repeats a key schema by hand.
 *
 * Every item key starts with the tenant (`T#<tenant>#...`), so no query can cross tenants.
 */
export interface IndexDeclaration {
  name: string;
  partitionKey: string;
  sortKey: string;
}

export interface TableDeclaration {
  /** Logical name; the physical name reaches functions in `TABLE_<NAME>`. */
  name: string;
  context: BoundedContext;
  partitionKey: string;
  sortKey?: string;
  indexes: readonly IndexDeclaration[];
  /** Attribute holding an epoch-seconds expiry, when items expire. */
  timeToLiveAttribute?: string;
}

export type BoundedContext = 'data' | 'ml' | 'sensors' | 'monitoring' | 'mlops' | 'gateway';

const gsi = (n: number): IndexDeclaration => ({ name: `gsi${n}`, partitionKey: `gsi${n}pk`, sortKey: `gsi${n}sk` });

export const tables = {
  sensors: { name: 'sensors', context: 'sensors', partitionKey: 'pk', sortKey: 'sk', indexes: [gsi(1), gsi(2)] },
  readings: { name: 'readings', context: 'sensors', partitionKey: 'pk', sortKey: 'sk', indexes: [], timeToLiveAttribute: 'expiresAt' },
  anomalies: { name: 'anomalies', context: 'sensors', partitionKey: 'pk', sortKey: 'sk', indexes: [gsi(1)] },
  datasets: { name: 'datasets', context: 'data', partitionKey: 'pk', sortKey: 'sk', indexes: [gsi(1)] },
  models: { name: 'models', context: 'ml', partitionKey: 'pk', sortKey: 'sk', indexes: [gsi(1)] },
  registry: { name: 'registry', context: 'mlops', partitionKey: 'pk', sortKey: 'sk', indexes: [gsi(1)] },
  /** Per-minute platform counters of each tenant (shared/monitoring/metrics.ts), expiring; other monitoring records set no expiresAt. */
  monitoring: { name: 'monitoring', context: 'monitoring', partitionKey: 'pk', sortKey: 'sk', indexes: [], timeToLiveAttribute: 'expiresAt' },
  /** Powertools idempotency records (POST /readings Idempotency-Key, redelivered events). */
  idempotency: { name: 'idempotency', context: 'gateway', partitionKey: 'id', indexes: [], timeToLiveAttribute: 'expiration' },
  /** Which tenant a machine client (Cognito app client id) acts for; read when its access token is issued. */
  tenants: { name: 'tenants', context: 'gateway', partitionKey: 'pk', sortKey: 'sk', indexes: [] },
} as const satisfies Record<string, TableDeclaration>;
export type TableName = keyof typeof tables;

export interface BucketDeclaration {
  name: string;
  context: BoundedContext;
  /** Send object events to EventBridge (the dataset drop starts the pipeline this way). */
  eventBridge: boolean;
  /**
   * A prefix of scratch objects that a run removes when it ends; a lifecycle rule expires what a
   * run stopped by hand (or by a timeout) left behind.
   */
  scratch?: { prefix: string; expireAfterDays: number };
}

export const buckets = {
  datasets: { name: 'datasets', context: 'data', eventBridge: true, scratch: { prefix: 'work/', expireAfterDays: 7 } },
  models: { name: 'models', context: 'mlops', eventBridge: false },
} as const satisfies Record<string, BucketDeclaration>;
export type BucketName = keyof typeof buckets;

export interface QueueDeclaration {
  name: string;
  context: BoundedContext;
  /** Seconds a received message stays invisible; at least six times the consumer's timeout on AWS. */
  visibilityTimeoutSeconds: number;
  /** Deliveries before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  /**
   * FIFO with high-throughput mode: messages of one group (a sensor) are delivered in send order and
   * one batch at a time, so a sensor's later readings never overtake earlier ones; other groups run in
   * parallel. Senders give MessageGroupId and MessageDeduplicationId.
   */
  fifo: boolean;
}

/** Seconds SQS remembers a FIFO message's deduplication id and drops a message sent again with it. */
export const fifoDeduplicationWindowSeconds = 300;

/** A queue's physical name from its base name: SQS requires FIFO queue names to end in `.fifo`. */
export const queuePhysicalName = (declaration: Pick<QueueDeclaration, 'fifo'>, base: string) => (declaration.fifo ? `${base}.fifo` : base);

export const queues = {
  ingest: { name: 'ingest', context: 'sensors', visibilityTimeoutSeconds: 180, maxReceiveCount: 5, fifo: true },
  /** Stored readings on their way to the streaming scorer (storeReadings sends, the scorer consumes); 6x a 60 s scorer. */
  scoring: { name: 'scoring', context: 'sensors', visibilityTimeoutSeconds: 360, maxReceiveCount: 5, fifo: true },
  /**
   * Alert notifications, one message per (alert, target): the deliverer retries a failed one with
   * backoff (its visibility timeout doubled per attempt), then it goes to the dead-letter queue. 6x a 30 s deliverer.
   */
  alertDeliveries: { name: 'alertDeliveries', context: 'monitoring', visibilityTimeoutSeconds: 180, maxReceiveCount: 6, fifo: false },
  /**
   * A grouped sensor's new readings on their way to its group's deployed model (the scorer sends, scoreGroupReadings
   * consumes); one message group per sensor group, so a group's state is never raced. 6x a 60 s consumer.
   */
  groupScoring: { name: 'groupScoring', context: 'sensors', visibilityTimeoutSeconds: 360, maxReceiveCount: 5, fifo: true },
} as const satisfies Record<string, QueueDeclaration>;
export type QueueName = keyof typeof queues;

/** The one event bus. Its events and their detail types are declared with their producers. */
export const bus = { name: 'events' } as const;
export const eventSource = 'telltale';
