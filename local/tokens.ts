import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** The claims Cognito-style access tokens carry; the local cloud issues and checks the same ones. */
export const localIssuer = 'telltale-local';
export const localAudience = 'telltale';
const algorithm = 'RS256';

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** A fresh key pair, kept in memory (tests, or to forge a token with a foreign key). */
export async function generateSigningKeys(): Promise<SigningKeys> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
  const kid = `local-${Date.now().toString(36)}`;
  return { kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' } };
}

/**
 * The local key pair: generated once and kept as a JWK in `dir`, so tokens printed by
 * `npm run token` stay valid across restarts of `npm start`.
 */
export async function loadSigningKeys(dir: string): Promise<SigningKeys> {
  const file = path.join(dir, 'signing-key.jwk.json');
  const stored = await readFile(file, 'utf8').then((text) => JSON.parse(text) as JWK, () => undefined);
  if (stored?.kid) {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = stored;
    return {
      kid: stored.kid,
      privateKey: (await importJWK(stored, algorithm)) as CryptoKey,
      publicKey: (await importJWK(publicJwk, algorithm)) as CryptoKey,
      publicJwk: { ...publicJwk, use: 'sig' },
    };
  }
  const keys = await generateSigningKeys();
  await mkdir(dir, { recursive: true });
  await writeFile(file, JSON.stringify({ ...(await exportJWK(keys.privateKey)), kid: keys.kid, alg: algorithm }), { mode: 0o600 });
  return keys;
}

export interface TokenRequest {
  /** The tenant claim; omit it to get a token bound to no tenant. */
  tenant?: string;
  scopes: readonly string[];
  /** Seconds from now until expiry; negative gives an already expired token. Default one hour. */
  ttlSeconds?: number;
  subject?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now before which the token is not valid. */
  notBeforeSeconds?: number;
  /** Sign with these keys instead of the cloud's (a forged token, in tests). */
  keys?: SigningKeys;
}

/** Mints an access token shaped like Cognito's: `scope` space-delimited, the tenant in its own claim. */
export async function mintToken(keys: SigningKeys, request: TokenRequest): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const signing = request.keys ?? keys;
  const claims: JWTPayload = { scope: request.scopes.join(' '), token_use: 'access', client_id: request.subject ?? 'local-client' };
  if (request.tenant !== undefined) claims.tenant = request.tenant;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: algorithm, kid: signing.kid, typ: 'JWT' })
    .setIssuer(request.issuer ?? localIssuer)
    .setAudience(request.audience ?? localAudience)
    .setSubject(request.subject ?? 'local-client')
    .setIssuedAt(now)
    .setExpirationTime(now + (request.ttlSeconds ?? 3600));
  if (request.notBeforeSeconds !== undefined) jwt.setNotBefore(now + request.notBeforeSeconds);
  return jwt.sign(signing.privateKey);
}

export class InvalidTokenError extends Error {}

export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/**
 * Verifies a bearer token as API Gateway's JWT authorizer does: signature against the local key,
 * `iss`, `aud` (or `client_id`), `exp` and `nbf`. Verified tokens are cached until they expire
 * (LRU, `cacheSize` entries), since RSA verification would otherwise dominate a small request.
 */
export function createTokenVerifier(keys: SigningKeys, options: { issuer?: string; audience?: string; cacheSize?: number } = {}): TokenVerifier {
  const issuer = options.issuer ?? localIssuer;
  const audience = options.audience ?? localAudience;
  const cacheSize = options.cacheSize ?? 1_000;
  const cache = new Map<string, JWTPayload>();

  return async (token) => {
    const cached = cache.get(token);
    if (cached) {
      const now = Date.now() / 1000;
      if ((cached.exp ?? 0) > now && (cached.nbf ?? 0) <= now) {
        // Re-insert to mark it most recently used.
        cache.delete(token);
        cache.set(token, cached);
        return cached;
      }
      cache.delete(token);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.publicKey, { issuer, algorithms: [algorithm], requiredClaims: ['exp'] }));
    } catch (error) {
      throw new InvalidTokenError(describeJoseError(error));
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : payload.aud === undefined ? [] : [payload.aud];
    if (!audiences.includes(audience) && payload.client_id !== audience) throw new InvalidTokenError('the token is not for this audience');
    cache.set(token, payload);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return payload;
  };
}

function describeJoseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the token signature is invalid';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `the token's ${(error as { claim?: string }).claim ?? ''} claim is invalid`.replace('  ', ' ');
    default:
      return 'the token is malformed or not signed by this issuer';
  }
}
