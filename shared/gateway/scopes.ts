/**
 * OAuth scopes of the Cognito resource server `telltale`. A route names the one scope it needs;
 * machine clients get them through the client-credentials flow.
 */
export const scopes = {
  read: 'telltale/read',
  ingest: 'telltale/ingest',
  data: 'telltale/data',
  models: 'telltale/models',
  admin: 'telltale/admin',
} as const;
export type Scope = (typeof scopes)[keyof typeof scopes];

export const scopeDescriptions: Record<Scope, string> = {
  'telltale/read': 'Read sensors, readings, anomalies, datasets and models',
  'telltale/ingest': 'Send readings and register sensors',
  'telltale/data': 'Register, validate and preprocess datasets',
  'telltale/models': 'Train, evaluate, register and deploy models',
  'telltale/admin': 'Manage alert rules and tenant settings',
};

/** Tenant ids are short, safe in keys and paths. */
export const tenantIdPattern = /^[a-z0-9][a-z0-9-]{1,62}$/;
