import { ValidationError } from '../platform/errors.js';

type Key = Record<string, string>;

/** DynamoDB's LastEvaluatedKey as an opaque cursor. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export const invalidCursor = () => new ValidationError('The cursor is not one this API issued.', [{ pointer: 'query.cursor', message: 'Invalid cursor' }]);

/**
 * Decodes a cursor into the ExclusiveStartKey of a query whose items are keyed by `keyAttributes`
 * (the table's keys, plus the index's when the query reads one). A cursor must name exactly those
 * attributes, each a non-empty string, or DynamoDB answers a ValidationException (a 500 to the
 * caller); every partition key in it must belong to the caller's tenant, so a forged cursor cannot
 * page through another tenant's partition.
 */
export function decodeCursor(cursor: string | undefined, tenantPrefix: string, partitionKeys: readonly string[], keyAttributes: readonly string[]): Key | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalidCursor();
  const entries = Object.entries(key);
  const names = new Set(entries.map(([name]) => name));
  if (names.size !== keyAttributes.length || keyAttributes.some((name) => !names.has(name))) throw invalidCursor();
  if (entries.some(([, v]) => typeof v !== 'string' || v.length === 0 || v.length > 1024)) throw invalidCursor();
  for (const name of partitionKeys) {
    const value = (key as Key)[name];
    if (value !== undefined && value !== tenantPrefix && !value.startsWith(`${tenantPrefix}#`)) throw invalidCursor();
  }
  return key as Key;
}
