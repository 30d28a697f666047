import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { DependencyProbe } from '../monitoring/health.js';
import { dynamoDb } from './dynamoDbClient.js';
import { s3 } from './s3Client.js';

/** Probes of the tables and buckets a function is bound to (names from its environment). */
export function awsProbes(resources: { tables: string[]; buckets: string[] }): DependencyProbe[] {
  return [
    ...resources.tables.map((name) => ({ name: `dynamodb:${name}`, probe: async () => void (await dynamoDb().send(new DescribeTableCommand({ TableName: name }))) })),
    ...resources.buckets.map((name) => ({ name: `s3:${name}`, probe: async () => void (await s3().send(new HeadBucketCommand({ Bucket: name }))) })),
  ];
}
