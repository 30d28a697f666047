import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Deployment } from '../mlops/deployment.js';
import type { DeploymentRepository } from '../mlops/deploymentRepository.js';
import { boundName } from '../platform/config.js';
import { ConflictError } from '../platform/errors.js';
import { tables } from '../platform/resources.js';
import { dynamoDb } from './dynamoDbClient.js';
import { callAws } from './errors.js';
import { followsRevision, itemKey, tenantItems, tenantKey, withoutKeys, type Item } from './tenantItems.js';

const deploymentPrefix = 'DEPLOYMENT#';
const deploymentKey = (group: string) => `${deploymentPrefix}${group}`;
const toDeployment = withoutKeys<Deployment>;

/**
 * One item per group in the tenant's partition of the registry table, written flat. Every change
 * is a conditional put on the revision it was made from (dynalite has no transactions, and one
 * item needs none), so of two concurrent changes one wins and the other gets 409.
 */
export function dynamoDeploymentRepository(tableName = boundName('TABLE', tables.registry.name)): DeploymentRepository {
  const items = tenantItems(tableName);
  return {
    async get(tenant, group) {
      const item = await items.get(itemKey(tenant, deploymentKey(group)));
      return item ? toDeployment(item) : undefined;
    },

    async save(tenant, deployment) {
      const written = await items.putIf({ ...itemKey(tenant, deploymentKey(deployment.group)), ...deployment }, followsRevision(deployment.revision));
      if (!written) throw new ConflictError(`The deployment of group "${deployment.group}" changed meanwhile; read it again and retry.`);
    },
  };
}

/**
 * Every tenant's deployments, page by page: what a schedule walks (the drift check). A Scan, since
 * it crosses tenants; the registry table holds one item per deployed group, so it reads little.
 */
export async function* allDeployments(tableName = boundName('TABLE', tables.registry.name)): AsyncGenerator<{ tenant: string; deployment: Deployment }> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await callAws('DynamoDB', () =>
      dynamoDb().send(new ScanCommand({ TableName: tableName, FilterExpression: 'begins_with(sk, :prefix)', ExpressionAttributeValues: { ':prefix': deploymentPrefix }, ExclusiveStartKey: start })),
    );
    for (const item of (page.Items ?? []) as Item[]) yield { tenant: (item.pk as string).slice(tenantKey('').length), deployment: toDeployment(item) };
    start = page.LastEvaluatedKey;
  } while (start);
}
