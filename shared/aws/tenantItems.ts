import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../platform/page.js';
import { dynamoDb } from './dynamoDbClient.js';
import { decodeCursor, encodeCursor, invalidCursor } from './cursor.js';
import { callAws, callAwsUnless } from './errors.js';

/**
 * The item shapes our tenant-keyed tables share: every item lives in its tenant's partition
 * (`pk = T#<tenant>`), and records are written flat beside their key attributes.
 */
export type Item = Record<string, unknown>;
export type ItemKey = { pk: string; sk: string };

export const tenantKey = (tenant: string) => `T#${tenant}`;
export const itemKey = (tenant: string, sk: string): ItemKey => ({ pk: tenantKey(tenant), sk });

/** Every key attribute our tables declare (resources.ts); they are storage layout, not part of a record. */
const keyAttributes = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']);

/** A record read back from its item, without the key attributes written beside it. */
export function withoutKeys<T>(item: Item): T {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !keyAttributes.has(name))) as T;
}

const isConditionFailure = (error: unknown) => (error as { name?: string }).name === 'ConditionalCheckFailedException';

/** One DynamoDB call; a failed condition becomes a ConflictError when `conflictMessage` is given. */
const translated = <T>(send: () => Promise<T>, conflictMessage?: string) => callAws('DynamoDB', send, conflictMessage);

/** A guarded write: false when its condition failed (a stale run or a newer write won). */
export const unlessConditionFails = (send: () => Promise<unknown>): Promise<boolean> =>
  callAwsUnless(
    'DynamoDB',
    async () => {
      await send();
      return true;
    },
    isConditionFailure,
    false,
  );

export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** Conditions on the item an update may change; each one set must hold, or the write is skipped. */
export interface UpdateGuard {
  /** The item's `run.id` is this run. An empty id guards nothing. */
  runId?: string;
  /** The item's `jobId` is this job. */
  jobId?: string;
  /** The item's `status` is one of these. */
  allowedFrom?: readonly string[];
}

export interface FieldChanges {
  /** Fields to set (undefined values are skipped); `updatedAt` is stamped whenever this is given. */
  set?: Record<string, unknown>;
  /** Fields to delete in the same write. */
  remove?: readonly string[];
  guard?: UpdateGuard;
  /** One more condition, ANDed with the guard's. */
  condition?: Condition;
}

/**
 * The UpdateItem input for `changes`: fields go through `#field`/`:field` placeholders (so reserved
 * words like `status` are safe), and the write requires the item to exist, so an update never
 * creates a half record.
 */
export function fieldUpdate(tableName: string, key: ItemKey, { set, remove = [], guard = {}, condition }: FieldChanges): UpdateCommandInput {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const clauses: string[] = [];
  if (set) {
    names['#updatedAt'] = 'updatedAt';
    values[':now'] = new Date().toISOString();
    const sets = ['#updatedAt = :now'];
    for (const [field, value] of Object.entries(set)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    clauses.push(`SET ${sets.join(', ')}`);
  }
  if (remove.length > 0) {
    for (const field of remove) names[`#${field}`] = field;
    clauses.push(`REMOVE ${remove.map((f) => `#${f}`).join(', ')}`);
  }
  const conditions = ['attribute_exists(pk)'];
  if (guard.runId) {
    Object.assign(names, { '#run': 'run', '#runId': 'id' });
    values[':runId'] = guard.runId;
    conditions.push('#run.#runId = :runId');
  }
  if (guard.jobId !== undefined) {
    names['#jobId'] = 'jobId';
    values[':jobId'] = guard.jobId;
    conditions.push('#jobId = :jobId');
  }
  if (guard.allowedFrom) {
    names['#status'] = 'status';
    guard.allowedFrom.forEach((s, i) => (values[`:from${i}`] = s));
    conditions.push(`#status IN (${guard.allowedFrom.map((_, i) => `:from${i}`).join(', ')})`);
  }
  if (condition) {
    Object.assign(names, condition.names);
    Object.assign(values, condition.values);
    conditions.push(`(${condition.expression})`);
  }
  return {
    TableName: tableName,
    Key: key,
    UpdateExpression: clauses.join(' '),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    // DynamoDB refuses an empty value map, and a bare REMOVE has no values.
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** A query without its paging: `tenantItems().queryPage` adds the limit and the cursor. */
export type PageQuery = Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>;

/** The item operations our repositories share, on one tenant-keyed table. */
export function tenantItems(tableName: string) {
  return {
    /** Writes a new item; a taken key throws ConflictError(conflictMessage). */
    putNew: (item: ItemKey & Item, conflictMessage: string): Promise<void> =>
      translated(async () => {
        await dynamoDb().send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      }, conflictMessage),

    /** Writes an item whatever is there. */
    put: (item: ItemKey & Item): Promise<void> =>
      translated(async () => {
        await dynamoDb().send(new PutCommand({ TableName: tableName, Item: item }));
      }),

    /** Writes an item while `condition` holds; false when it did not. */
    putIf: (item: ItemKey & Item, condition: Condition): Promise<boolean> =>
      unlessConditionFails(() =>
        dynamoDb().send(
          new PutCommand({
            TableName: tableName,
            Item: item,
            ConditionExpression: condition.expression,
            ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}),
            ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
          }),
        ),
      ),

    get: (key: ItemKey): Promise<Item | undefined> => translated(async () => (await dynamoDb().send(new GetCommand({ TableName: tableName, Key: key }))).Item),

    /**
     * One page of `query` in the tenant's partition, read into records by `toRecord`. The cursor's
     * `partitionKeys` are checked against the tenant so a forged cursor cannot cross tenants.
     */
    queryPage: <T>(tenant: string, query: PageQuery, page: { limit: number; cursor?: string }, partitionKeys: readonly string[], toRecord: (item: Item) => T): Promise<Page<T>> =>
      translated(async () => {
        // Our tables key items by pk/sk, and index gsiN by gsiNpk/gsiNsk (resources.ts).
        const keyAttributes = query.IndexName ? ['pk', 'sk', `${query.IndexName}pk`, `${query.IndexName}sk`] : ['pk', 'sk'];
        const exclusiveStartKey = decodeCursor(page.cursor, tenantKey(tenant), partitionKeys, keyAttributes);
        try {
          const result = await dynamoDb().send(new QueryCommand({ TableName: tableName, ...query, Limit: page.limit, ExclusiveStartKey: exclusiveStartKey }));
          return { items: (result.Items ?? []).map(toRecord), nextCursor: encodeCursor(result.LastEvaluatedKey) };
        } catch (error) {
          // A well-shaped start key DynamoDB still refuses (one outside the query's key range) is the cursor's fault.
          if (exclusiveStartKey && (error as { name?: string }).name === 'ValidationException') throw invalidCursor();
          throw error;
        }
      }),

    /** Deletes an item; false when there was none. */
    remove: (key: ItemKey): Promise<boolean> =>
      unlessConditionFails(() => dynamoDb().send(new DeleteCommand({ TableName: tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' }))),

    /** Applies `changes` (see fieldUpdate); false when the item is missing or a guard did not hold. */
    update: (key: ItemKey, changes: FieldChanges): Promise<boolean> => unlessConditionFails(() => dynamoDb().send(new UpdateCommand(fieldUpdate(tableName, key, changes)))),
  };
}

/**
 * The condition of a versioned write: the stored item is at `revision - 1`, or there is none for
 * revision 1. Of two writers from the same revision one wins, and no change is lost.
 */
export const followsRevision = (revision: number): Condition =>
  revision === 1 ? { expression: 'attribute_not_exists(pk)' } : { expression: '#revision = :previous', names: { '#revision': 'revision' }, values: { ':previous': revision - 1 } };
