/**
 * `npm run token -- --tenant acme --scope telltale/read,telltale/ingest [--ttl 3600] [--subject me]`
 * prints a bearer token signed with the local cloud's key (.telltale/keys), for the local API.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { scopes as knownScopes, tenantIdPattern } from '../shared/gateway/scopes.js';
import { repositoryRoot } from './cloud.js';
import { loadSigningKeys, mintToken } from './tokens.js';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    scope: { type: 'string', default: Object.values(knownScopes).join(',') },
    ttl: { type: 'string', default: '3600' },
    subject: { type: 'string' },
  },
});

const fail = (message: string): never => {
  console.error(`${message}\nUsage: npm run token -- --tenant acme --scope ${Object.values(knownScopes).join(',')} [--ttl 3600]`);
  process.exit(2);
};

if (!values.tenant) fail('--tenant is required');
if (!tenantIdPattern.test(values.tenant!)) fail(`--tenant must match ${tenantIdPattern}`);
const requested = values.scope.split(/[,\s]+/).filter(Boolean);
const unknown = requested.filter((s) => !(Object.values(knownScopes) as string[]).includes(s));
if (unknown.length > 0) fail(`Unknown scope(s): ${unknown.join(', ')}`);
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) fail('--ttl must be a positive number of seconds');

const keys = await loadSigningKeys(path.join(repositoryRoot, '.telltale', 'keys'));
console.log(await mintToken(keys, { tenant: values.tenant, scopes: requested, ttlSeconds, subject: values.subject }));
