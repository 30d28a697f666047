import type { Stack } from 'aws-cdk-lib';
import { UserPool, UserPoolClient, type IUserPool, type IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { buckets, bus as busDeclaration, queues, tables, type BucketName, type QueueName, type TableName } from '../shared/platform/resources.js';
import type { TelltaleResources } from './constructs/telltaleFunction.js';

/**
 * The data stack hands its resources to the stacks that use them through SSM String parameters
 * under `/telltale/<stage>/`, read at deploy time, instead of CloudFormation exports: an export
 * that another stack imports can be neither changed nor removed ("Export ... in use"), so
 * replacing a table or an app client, or dropping a binding, would fail the update.
 */
export const parameterNameOf = (stage: string, kind: 'table' | 'bucket' | 'queue' | 'deadLetterQueue' | 'bus' | 'auth', name: string) => `/telltale/${stage}/${kind}/${name}`;

/** The app clients whose access tokens the API accepts, by the name their ids are published under. */
export const appClientNames = ['demoClient', 'operatorsClient'] as const;
export type AppClientName = (typeof appClientNames)[number];

/** What the API stack needs to check tokens. */
export interface Auth {
  userPool: IUserPool;
  clients: Record<AppClientName, IUserPoolClient>;
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const names = <K extends string>(record: Record<K, unknown>) => Object.keys(record) as K[];
const mapOf = <K extends string, V>(keys: readonly K[], make: (key: K) => V) => Object.fromEntries(keys.map((k) => [k, make(k)])) as Record<K, V>;
/** Like mapOf, but each value is made on first use: a template holds a parameter only for what it uses. */
const lazy = <V>(make: () => V) => {
  let made: V | undefined;
  return { enumerable: true, get: () => (made ??= make()) };
};
const lazyMapOf = <K extends string, V>(keys: readonly K[], make: (key: K) => V) =>
  Object.defineProperties({}, Object.fromEntries(keys.map((k) => [k, lazy(() => make(k))]))) as Record<K, V>;

/** Writes the name of every table, bucket, queue, the bus and the user pool and its clients (data stack). */
export function publishResources(stack: Stack, stage: string, resources: TelltaleResources, auth: Auth | null, deadLetterQueues: Record<QueueName, IQueue>): void {
  const publish = (kind: Parameters<typeof parameterNameOf>[1], name: string, value: string) =>
    new StringParameter(stack, `${pascal(kind)}${pascal(name)}Parameter`, { parameterName: parameterNameOf(stage, kind, name), stringValue: value, description: `Telltale ${stage}: ${kind} ${name}` });
  for (const name of names(tables)) publish('table', name, resources.tables[name].tableName);
  for (const name of names(buckets)) publish('bucket', name, resources.buckets[name].bucketName);
  for (const name of names(queues)) publish('queue', name, resources.queues[name].queueName);
  // The queues' dead-letter queues, for the operations alarms of the API stack.
  for (const name of names(queues)) publish('deadLetterQueue', name, deadLetterQueues[name].queueName);
  publish('bus', busDeclaration.name, resources.bus.eventBusName);
  if (!auth) return;
  publish('auth', 'userPool', auth.userPool.userPoolId);
  for (const name of appClientNames) publish('auth', name, auth.clients[name].userPoolClientId);
}

/**
 * The data stack's resources as the API stack sees them: each name read from its parameter at
 * deploy time, each ARN built from the name (no cross-stack reference, so no export).
 */
export function importResources(stack: Stack, stage: string, withAuth: boolean): { resources: TelltaleResources; auth: Auth | null } {
  const value = (kind: Parameters<typeof parameterNameOf>[1], name: string) => StringParameter.valueForStringParameter(stack, parameterNameOf(stage, kind, name));
  const resources = Object.defineProperties(
    {
      tables: lazyMapOf(names(tables), (name: TableName) => Table.fromTableName(stack, `Imported${pascal(name)}Table`, value('table', name))),
      buckets: lazyMapOf(names(buckets), (name: BucketName) => Bucket.fromBucketName(stack, `Imported${pascal(name)}Bucket`, value('bucket', name))),
      queues: lazyMapOf(names(queues), (name: QueueName) =>
        Queue.fromQueueArn(stack, `Imported${pascal(name)}Queue`, stack.formatArn({ service: 'sqs', resource: value('queue', name) })),
      ),
    },
    { bus: lazy(() => EventBus.fromEventBusName(stack, `Imported${pascal(busDeclaration.name)}Bus`, value('bus', busDeclaration.name))) },
  ) as TelltaleResources;
  if (!withAuth) return { resources, auth: null };
  const auth: Auth = {
    userPool: UserPool.fromUserPoolId(stack, 'ImportedUserPool', value('auth', 'userPool')),
    clients: mapOf(appClientNames, (name) => UserPoolClient.fromUserPoolClientId(stack, `Imported${pascal(name)}`, value('auth', name))),
  };
  return { resources, auth };
}

/** The dead-letter queues of the data stack's queues, by their parameters (the API stack's alarms watch them). */
export const importDeadLetterQueues = (stack: Stack, stage: string): Record<QueueName, IQueue> =>
  mapOf(names(queues), (name) =>
    Queue.fromQueueArn(stack, `Imported${pascal(name)}DeadLetterQueue`, stack.formatArn({ service: 'sqs', resource: StringParameter.valueForStringParameter(stack, parameterNameOf(stage, 'deadLetterQueue', name)) })),
  );
