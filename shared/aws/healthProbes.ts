import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { DependencyProbe } from '../monitoring/health.js';
import { probedResources } from '../monitoring/health.js';
import { boundName } from '../platform/config.js';
import { dynamoDb } from './dynamoDbClient.js';
import { s3 } from './s3Client.js';

/** Probes of the health check's table and bucket, their physical names from the function's environment. */
export function awsProbes(): DependencyProbe[] {
  const table = boundName('TABLE', probedResources.table);
  const bucket = boundName('BUCKET', probedResources.bucket);
  return [
    { name: `dynamodb:${probedResources.table}`, resource: table, probe: async () => void (await dynamoDb().send(new DescribeTableCommand({ TableName: table }))) },
    { name: `s3:${probedResources.bucket}`, resource: bucket, probe: async () => void (await s3().send(new HeadBucketCommand({ Bucket: bucket }))) },
  ];
}
