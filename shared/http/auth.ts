import { scopes as allScopes, tenantIdPattern, type Scope } from '../gateway/scopes.js';
import { ForbiddenError, UnauthorizedError } from '../platform/errors.js';

/** The authenticated caller, from claims the JWT authorizer already verified. */
export interface Principal {
  tenant: string;
  subject: string;
  scopes: readonly string[];
}

const knownScopes = new Set<string>(Object.values(allScopes));

/**
 * Turns verified claims into a principal and checks the route's scope. Signature, issuer, audience
 * and expiry were checked by the gateway's JWT authorizer (or the local cloud); this checks what
 * only the application knows: which tenant, and whether the token may call this route.
 */
export function authorize(claims: Record<string, unknown> | undefined, required: Scope, tenantClaim: string): Principal {
  if (!claims) throw new UnauthorizedError('This route needs a bearer token.');
  const tenant = claims[tenantClaim];
  if (typeof tenant !== 'string' || !tenantIdPattern.test(tenant)) {
    throw new ForbiddenError(`The token has no valid "${tenantClaim}" claim, so it is not bound to a tenant.`);
  }
  // HTTP API passes scope as one space-delimited string; some issuers send an array.
  const raw = claims.scope ?? claims.scp;
  const granted = (Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(' ') : []).filter((s) => knownScopes.has(s));
  if (!granted.includes(required)) {
    throw new ForbiddenError(`The token lacks the scope "${required}" that this route needs.`);
  }
  const subject = typeof claims.sub === 'string' ? claims.sub : typeof claims.client_id === 'string' ? claims.client_id : 'unknown';
  return { tenant, subject, scopes: granted };
}
