/**
 * `npm run token -- --tenant acme --scope telltale/read,telltale/ingest [--ttl 3600] [--subject me]`
 * prints a bearer token signed with the local cloud's key (.telltale/keys), for the local API.
 */
import path from 'node:path';
import { scopes as knownScopes, tenantIdPattern } from '../shared/gateway/scopes.js';
import { parseCommandLine, usageError } from './commandLine.js';
import { repositoryRoot } from './paths.js';
import { loadSigningKeys, mintToken } from './tokens.js';

const usage = `Usage: npm run token -- --tenant ID [options]

Prints a bearer token for the local API, signed with the local cloud's key.

Options:
  --tenant ID       the tenant the token acts for (required)
  --scope LIST      comma-separated scopes (default all: ${Object.values(knownScopes).join(',')})
  --ttl SECONDS     lifetime (default 3600)
  --subject NAME    the token's subject and client id (default local-client)
  --data-dir DIR    the data folder of the local cloud, whose key signs (default .telltale/ in the repository)
  -h, --help        this text`;

const values = parseCommandLine(
  {
    tenant: { type: 'string' },
    scope: { type: 'string', default: Object.values(knownScopes).join(',') },
    ttl: { type: 'string', default: '3600' },
    subject: { type: 'string' },
    'data-dir': { type: 'string' },
  },
  usage,
);

const tenant = values.tenant ?? usageError('--tenant is required', usage);
if (!tenantIdPattern.test(tenant)) usageError(`--tenant must match ${tenantIdPattern}`, usage);
const requested = values.scope.split(/[,\s]+/).filter(Boolean);
const unknown = requested.filter((s) => !(Object.values(knownScopes) as string[]).includes(s));
if (unknown.length > 0) usageError(`Unknown scope(s): ${unknown.join(', ')}`, usage);
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) usageError('--ttl must be a positive number of seconds', usage);

const dataDir = values['data-dir'] ? path.resolve(values['data-dir']) : path.join(repositoryRoot, '.telltale');
const keys = await loadSigningKeys(path.join(dataDir, 'keys'));
console.log(await mintToken(keys, { tenant, scopes: requested, ttlSeconds, subject: values.subject }));
