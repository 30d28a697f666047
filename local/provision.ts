import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { BucketDeclaration, TableDeclaration } from '../shared/platform/resources.js';

export interface ProvisionTarget {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  dynamoDbEndpoint: string;
  s3Endpoint: string;
}

/** The CreateTable request of a table declaration: the same key schema the CDK uses. */
export function createTableInput(physicalName: string, table: TableDeclaration): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const key = (name: string) => attributes.set(name, { AttributeName: name, AttributeType: 'S' });
  key(table.partitionKey);
  if (table.sortKey) key(table.sortKey);
  for (const index of table.indexes) {
    key(index.partitionKey);
    key(index.sortKey);
  }
  return {
    TableName: physicalName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()],
    KeySchema: [
      { AttributeName: table.partitionKey, KeyType: 'HASH' },
      ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    ...(table.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
              { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

const alreadyThere = (error: unknown, ...names: string[]) => names.includes((error as { name?: string }).name ?? '');

/**
 * Creates every declared table and bucket through the real AWS SDK. Idempotent: what exists is
 * kept (a restart on the on-disk store keeps its data).
 */
export async function provisionResources(
  target: ProvisionTarget,
  resources: { tables: readonly { physicalName: string; declaration: TableDeclaration }[]; buckets: readonly { physicalName: string; declaration: BucketDeclaration }[] },
): Promise<void> {
  const dynamoDb = new DynamoDBClient({ region: target.region, credentials: target.credentials, endpoint: target.dynamoDbEndpoint });
  const s3 = new S3Client({ region: target.region, credentials: target.credentials, endpoint: target.s3Endpoint, forcePathStyle: true });
  try {
    await Promise.all([
      ...resources.tables.map(async ({ physicalName, declaration }) => {
        try {
          await dynamoDb.send(new CreateTableCommand(createTableInput(physicalName, declaration)));
        } catch (error) {
          if (!alreadyThere(error, 'ResourceInUseException')) throw error;
        }
        if (declaration.timeToLiveAttribute) {
          // dynalite has no TTL API (items just do not expire locally); LocalStack has one.
          await dynamoDb
            .send(new UpdateTimeToLiveCommand({ TableName: physicalName, TimeToLiveSpecification: { AttributeName: declaration.timeToLiveAttribute, Enabled: true } }))
            .catch((error: unknown) => {
              if (!alreadyThere(error, 'UnknownOperationException', 'ValidationException')) throw error;
            });
        }
      }),
      ...resources.buckets.map(async ({ physicalName }) => {
        try {
          await s3.send(new CreateBucketCommand({ Bucket: physicalName }));
        } catch (error) {
          if (!alreadyThere(error, 'BucketAlreadyOwnedByYou', 'BucketAlreadyExists')) throw error;
        }
      }),
    ]);
  } finally {
    dynamoDb.destroy();
    s3.destroy();
  }
}
