import { z } from 'zod';
import { tenantIdPattern } from './scopes.js';

/**
 * The tenant claim of access tokens. Cognito calls the pre token generation trigger (V3_0 event)
 * before it issues tokens: for a user, the tenant is the immutable `custom:tenant` attribute; for
 * a machine client (client-credentials grant) it is the tenant its app client id is mapped to in
 * the `tenants` table. No tenant, no token: a token without one could only ever get 403s, and
 * failing here tells the operator at once which client or user is not set up.
 */

/** The user attribute that carries a person's tenant. */
export const tenantAttribute = 'custom:tenant';

/** Key of the item that maps an app client id to its tenant in the `tenants` table. */
export const clientTenantKey = (clientId: string) => ({ pk: `CLIENT#${clientId}`, sk: 'TENANT' });

/** The part of the V3_0 pre token generation event this trigger reads. */
export const preTokenGenerationEvent = z.object({
  version: z.string(),
  triggerSource: z.string(),
  userPoolId: z.string(),
  callerContext: z.object({ clientId: z.string().min(1) }),
  request: z.object({ userAttributes: z.record(z.string(), z.string()).default({}) }),
});
export type PreTokenGenerationEvent = z.infer<typeof preTokenGenerationEvent>;

/** The `response` Cognito expects back from a V2_0/V3_0 trigger. */
export interface TenantClaimResponse {
  claimsAndScopeOverrideDetails: {
    accessTokenGeneration: { claimsToAddOrOverride: Record<string, string> };
    idTokenGeneration?: { claimsToAddOrOverride: Record<string, string> };
  };
}

/** Port: where machine clients' tenants are kept. */
export interface ClientTenants {
  tenantOf(clientId: string): Promise<string | undefined>;
}

export class TenantNotAssignedError extends Error {
  override readonly name = 'TenantNotAssignedError';
}

export const isClientCredentials = (event: Pick<PreTokenGenerationEvent, 'triggerSource'>) =>
  event.triggerSource === 'TokenGeneration_ClientCredentials';

/**
 * Primary course: a user signs in, or a machine client asks for a token -> find its tenant ->
 * put it in the `tenantClaim` claim of the access token (and of the ID token, for users).
 */
export async function tenantClaimFor(event: PreTokenGenerationEvent, clients: ClientTenants, tenantClaim: string): Promise<TenantClaimResponse> {
  const machine = isClientCredentials(event);
  const tenant = machine ? await clients.tenantOf(event.callerContext.clientId) : event.request.userAttributes[tenantAttribute];
  const who = machine ? `app client ${event.callerContext.clientId}` : `a user of app client ${event.callerContext.clientId}`;
  if (tenant === undefined || tenant === '') {
    throw new TenantNotAssignedError(`No tenant is assigned to ${who}; refusing to issue a token.`);
  }
  if (!tenantIdPattern.test(tenant)) {
    throw new TenantNotAssignedError(`The tenant assigned to ${who} is not a valid tenant id; refusing to issue a token.`);
  }
  const claims = { [tenantClaim]: tenant };
  return {
    claimsAndScopeOverrideDetails: {
      accessTokenGeneration: { claimsToAddOrOverride: claims },
      // Client-credentials grants issue no ID token.
      ...(machine ? {} : { idTokenGeneration: { claimsToAddOrOverride: claims } }),
    },
  };
}
