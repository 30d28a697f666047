import { ValidationError } from '../platform/errors.js';

type Key = Record<string, string>;

/** DynamoDB's LastEvaluatedKey as an opaque cursor. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

/**
 * Decodes a cursor and checks that every partition key in it belongs to the caller's tenant,
 * so a forged cursor cannot page through another tenant's partition.
 */
export function decodeCursor(cursor: string | undefined, tenantPrefix: string, partitionKeys: readonly string[]): Key | undefined {
  if (cursor === undefined) return undefined;
  const invalid = () => new ValidationError('The cursor is not one this API issued.', [{ pointer: 'query.cursor', message: 'Invalid cursor' }]);
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalid();
  const entries = Object.entries(key);
  if (entries.length === 0 || entries.length > 4 || entries.some(([, v]) => typeof v !== 'string')) throw invalid();
  for (const name of partitionKeys) {
    const value = (key as Key)[name];
    if (value !== undefined && value !== tenantPrefix && !value.startsWith(`${tenantPrefix}#`)) throw invalid();
  }
  return key as Key;
}
