import type { RouteContract } from './http/route.js';
import { healthRoute } from './monitoring/contract.js';
import { openApiRoute } from './gateway/contract.js';
import type { BoundedContext, BucketName, QueueName, TableName } from './platform/resources.js';
import { getSensorRoute, listSensorsRoute, registerSensorRoute } from './sensors/contract.js';

export type Access = 'read' | 'write' | 'readWrite';

/** What a function is allowed to touch. The CDK turns each entry into an env var plus a least-privilege grant. */
export interface Bindings {
  tables?: Partial<Record<TableName, Access>>;
  buckets?: Partial<Record<BucketName, Access>>;
  queues?: Partial<Record<QueueName, 'send'>>;
  /** Put events on the bus. */
  bus?: boolean;
}

export type Trigger =
  | { kind: 'http'; route: RouteContract }
  | { kind: 'queue'; queue: QueueName; batchSize: number; maxBatchingWindowSeconds: number }
  | { kind: 'task' };

export interface FunctionDeclaration {
  /** Logical name, unique; also the construct id. */
  name: string;
  context: BoundedContext;
  /** Entry file, relative to the repository root; exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** onnxruntime has crash reports on arm64 Lambda, so inference functions run on x86_64. */
  architecture: 'arm64' | 'x86_64';
  trigger: Trigger;
  binds: Bindings;
}

const api = (
  name: string,
  context: BoundedContext,
  route: RouteContract,
  binds: Bindings,
  options: Partial<Pick<FunctionDeclaration, 'memoryMb' | 'timeoutSeconds' | 'architecture' | 'description'>> = {},
): FunctionDeclaration => ({
  name,
  context,
  entry: `functions/${context}/${name}.ts`,
  description: options.description ?? route.summary,
  memoryMb: options.memoryMb ?? 512,
  timeoutSeconds: options.timeoutSeconds ?? 10,
  architecture: options.architecture ?? 'arm64',
  trigger: { kind: 'http', route },
  binds,
});

/**
 * Every function of Telltale, declared once. The CDK stacks and the embedded local cloud both
 * walk this list; nobody wires a function by hand.
 */
export const catalog: readonly FunctionDeclaration[] = [
  api('health', 'monitoring', healthRoute, { tables: { sensors: 'read' }, buckets: { datasets: 'read' } }, { memoryMb: 256 }),
  api('openApiDocument', 'gateway', openApiRoute, {}, { memoryMb: 256 }),
  api('registerSensor', 'sensors', registerSensorRoute, { tables: { sensors: 'write' } }),
  api('listSensors', 'sensors', listSensorsRoute, { tables: { sensors: 'read' } }),
  api('getSensor', 'sensors', getSensorRoute, { tables: { sensors: 'read' } }),
];

export const httpFunctions = () =>
  catalog.flatMap((f) => (f.trigger.kind === 'http' ? [{ fn: f, route: f.trigger.route }] : []));
