import { describe, expect, it } from 'vitest';
import { clientTenantKey, preTokenGenerationEvent, tenantClaimFor, TenantNotAssignedError, type ClientTenants } from '../../../shared/gateway/tenantClaim.js';

const event = (triggerSource: string, userAttributes: Record<string, string> = {}, clientId = 'client-1') =>
  preTokenGenerationEvent.parse({ version: '3', triggerSource, userPoolId: 'eu-west-1_pool', callerContext: { clientId, awsSdkVersion: 'x' }, request: { userAttributes } });

const clientsOf = (map: Record<string, string>): ClientTenants & { asked: string[] } => {
  const asked: string[] = [];
  return { asked, tenantOf: async (id) => (asked.push(id), map[id]) };
};

describe('tenantClaimFor', () => {
  it('puts a machine client tenant from the mapping in the access token only', async () => {
    const clients = clientsOf({ 'client-1': 'acme' });

    const response = await tenantClaimFor(event('TokenGeneration_ClientCredentials'), clients, 'tenant');

    expect(clients.asked).toEqual(['client-1']);
    expect(response.claimsAndScopeOverrideDetails.accessTokenGeneration.claimsToAddOrOverride).toEqual({ tenant: 'acme' });
    expect(response.claimsAndScopeOverrideDetails.idTokenGeneration).toBeUndefined();
  });

  it('takes a user tenant from custom:tenant, in both tokens, without reading the mapping', async () => {
    const clients = clientsOf({ 'client-1': 'other' });

    const response = await tenantClaimFor(event('TokenGeneration_Authentication', { 'custom:tenant': 'plant-7' }), clients, 'org');

    expect(clients.asked).toEqual([]);
    expect(response.claimsAndScopeOverrideDetails.accessTokenGeneration.claimsToAddOrOverride).toEqual({ org: 'plant-7' });
    expect(response.claimsAndScopeOverrideDetails.idTokenGeneration?.claimsToAddOrOverride).toEqual({ org: 'plant-7' });
  });

  it('refuses a token to a machine client with no tenant mapped', async () => {
    await expect(tenantClaimFor(event('TokenGeneration_ClientCredentials'), clientsOf({}), 'tenant')).rejects.toThrow(TenantNotAssignedError);
  });

  it('refuses a token to a user without custom:tenant', async () => {
    await expect(tenantClaimFor(event('TokenGeneration_HostedAuth', { email: 'a@b.c' }), clientsOf({}), 'tenant')).rejects.toThrow(/No tenant/);
  });

  it('refuses a tenant that is not a valid tenant id', async () => {
    await expect(tenantClaimFor(event('TokenGeneration_Authentication', { 'custom:tenant': 'T#../x' }), clientsOf({}), 'tenant')).rejects.toThrow(/not a valid tenant id/);
  });

  it('keys the mapping by client id', () => {
    expect(clientTenantKey('abc')).toEqual({ pk: 'CLIENT#abc', sk: 'TENANT' });
  });

  it('rejects an event without a caller client id', () => {
    expect(() => preTokenGenerationEvent.parse({ version: '3', triggerSource: 'x', userPoolId: 'p', callerContext: {}, request: {} })).toThrow();
  });
});
