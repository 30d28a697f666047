import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { dynamoDb } from '../../shared/aws/dynamoDbClient.js';
import { clientTenantKey, preTokenGenerationEvent, tenantClaimFor, type ClientTenants } from '../../shared/gateway/tenantClaim.js';
import { boundName, platformConfig } from '../../shared/platform/config.js';
import { logger } from '../../shared/platform/observability.js';

const { TENANT_CLAIM } = platformConfig();
const tableName = boundName('TABLE', 'tenants');

const clientTenants: ClientTenants = {
  async tenantOf(clientId) {
    const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName, Key: clientTenantKey(clientId), ConsistentRead: true }));
    return typeof Item?.tenant === 'string' ? Item.tenant : undefined;
  },
};

/** Cognito pre token generation trigger (V3_0): returns the event with the tenant claim added. */
export const handler = middy(async (raw: Record<string, unknown>) => {
  const event = preTokenGenerationEvent.parse(raw);
  try {
    const response = await tenantClaimFor(event, clientTenants, TENANT_CLAIM);
    return { ...raw, response };
  } catch (error) {
    // Cognito turns a thrown error into a failed sign-in or token request; the log says why.
    logger.warn('Token refused', { triggerSource: event.triggerSource, clientId: event.callerContext.clientId, error });
    throw error;
  }
}).use(injectLambdaContext(logger));
