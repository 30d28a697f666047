import type { Bindings, FunctionDeclaration, WorkflowName } from '../catalog.js';
import { envNameOf } from './config.js';
import { bus, type BucketName, type QueueName, type TableName } from './resources.js';

/** How a deployment names the resources a function is bound to: CDK tokens on AWS, fixed names on the local cloud. */
export interface PhysicalNames {
  table(name: TableName): string;
  bucket(name: BucketName): string;
  /** The queue's URL (what SendMessage takes). */
  queue(name: QueueName): string;
  bus(): string;
  /** The state machine's ARN. */
  stateMachine(name: WorkflowName): string;
}

/** What every function of a deployment is told about it. */
export interface EnvironmentSettings {
  stage: string;
  serviceVersion: string;
  /** Name of the JWT claim that carries the tenant. */
  tenantClaim: string;
  /** Extra environment for every function (e.g. CORS_ORIGINS). */
  environment?: Record<string, string>;
}

const keysOf = <K extends string>(record: Partial<Record<K, unknown>> | undefined): K[] =>
  Object.entries(record ?? {}).flatMap(([key, value]) => (value === undefined ? [] : [key as K]));

/**
 * One variable per binding, holding the resource's physical name, and nothing else: a function can
 * only name what its catalog entry binds. The CDK construct's bind*() and the local cloud both call this.
 */
export function bindingEnvironment(binds: Bindings, names: Partial<PhysicalNames>): Record<string, string> {
  const name = <K extends keyof PhysicalNames>(kind: K): PhysicalNames[K] => {
    const resolve = names[kind];
    if (!resolve) throw new Error(`No physical ${kind} names given for these bindings`);
    return resolve;
  };
  return Object.fromEntries([
    ...keysOf(binds.tables).map((table) => [envNameOf('TABLE', table), name('table')(table)]),
    ...keysOf(binds.buckets).map((bucket) => [envNameOf('BUCKET', bucket), name('bucket')(bucket)]),
    ...keysOf(binds.queues).map((queue) => [envNameOf('QUEUE', queue), name('queue')(queue)]),
    ...(binds.bus ? [[envNameOf('BUS', bus.name), name('bus')()]] : []),
    ...keysOf(binds.stateMachines).map((machine) => [envNameOf('STATE_MACHINE', machine), name('stateMachine')(machine)]),
  ]);
}

/** The CloudWatch namespace of a stage's EMF metrics: one per stage, so alarms of dev and prod never mix. */
export const metricsNamespace = (stage: string) => `Telltale/${stage}`;

/** The settings part of a function's environment (its bindings add the rest). */
export const settingsEnvironment = (fn: Pick<FunctionDeclaration, 'context'>, settings: EnvironmentSettings): Record<string, string> => ({
  POWERTOOLS_SERVICE_NAME: `telltale-${fn.context}`,
  POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(settings.stage),
  SERVICE_VERSION: settings.serviceVersion,
  STAGE: settings.stage,
  TENANT_CLAIM: settings.tenantClaim,
  ...settings.environment,
});

/** A function's whole environment as the stack deploys it, for runtimes that have every name at hand. */
export const functionEnvironment = (fn: FunctionDeclaration, settings: EnvironmentSettings, names: PhysicalNames): Record<string, string> => ({
  ...settingsEnvironment(fn, settings),
  ...bindingEnvironment(fn.binds, names),
});
