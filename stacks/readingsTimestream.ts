import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-timestream';
import type { Construct } from 'constructs';
import type { Access, ScanAll } from '../shared/catalog.js';
import { removalPolicyOf, type TelltaleConfig } from './config.js';
import type { TelltaleFunction } from './constructs/telltaleFunction.js';

/**
 * Readings in Timestream for LiveAnalytics (`-c readingsStore=timestream`). It takes no new AWS
 * customers, so DynamoDB is the default. The database and table are named from the stage, so the
 * API stack grants on them without a reference across stacks.
 */
export interface ReadingsTimestream {
  databaseName: string;
  tableName: string;
}

export const readingsTimestreamOf = (config: TelltaleConfig): ReadingsTimestream | undefined =>
  config.readingsStore === 'timestream' ? { databaseName: `telltale-${config.stage}`, tableName: 'readings' } : undefined;

/** The database and table (data stack): a day in the memory store, then the magnetic store for the retention; magnetic writes take late readings. */
export function createReadingsTimestream(scope: Construct, config: TelltaleConfig): void {
  const names = readingsTimestreamOf(config);
  if (!names) return;
  const database = new CfnDatabase(scope, 'ReadingsDatabase', { databaseName: names.databaseName });
  const table = new CfnTable(scope, 'ReadingsTimestreamTable', {
    databaseName: names.databaseName,
    tableName: names.tableName,
    retentionProperties: { MemoryStoreRetentionPeriodInHours: '24', MagneticStoreRetentionPeriodInDays: String(config.readingsRetentionDays || 73_000) },
    magneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
  });
  table.addResourceDependency(database);
  Validations.of(database).acknowledge({ id: 'AwsSolutions-TS3', reason: 'Encrypted at rest with the AWS-managed key, as the tables are: no monthly key fee.' });
  database.applyRemovalPolicy(removalPolicyOf(config));
  table.applyRemovalPolicy(removalPolicyOf(config));
}

/**
 * TIMESTREAM_DATABASE and TIMESTREAM_TABLE plus queries on that table, and writes for `write` and
 * `readWrite` (writers query too, for a reading's late mark). DescribeEndpoints (Timestream's endpoint
 * discovery) has no resource-level permission: it gets a policy of its own, acknowledged alone.
 */
export function bindReadingsTimestream(fn: TelltaleFunction, names: ReadingsTimestream, access: Access | ScanAll | 'probe'): void {
  const stack = Stack.of(fn);
  const tableArn = stack.formatArn({ service: 'timestream', resource: 'database', resourceName: `${names.databaseName}/table/${names.tableName}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  fn.addEnvironment('TIMESTREAM_DATABASE', names.databaseName);
  fn.addEnvironment('TIMESTREAM_TABLE', names.tableName);
  fn.addToRolePolicy(new PolicyStatement({ actions: access === 'write' || access === 'readWrite' ? ['timestream:WriteRecords', 'timestream:Select'] : ['timestream:Select'], resources: [tableArn] }));
  const endpoints = new Policy(fn, 'TimestreamEndpoints', { statements: [new PolicyStatement({ actions: ['timestream:DescribeEndpoints'], resources: ['*'] })] });
  fn.role!.attachInlinePolicy(endpoints);
  Validations.of(endpoints).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'Timestream DescribeEndpoints (endpoint discovery) supports no resource-level permissions.' });
}
