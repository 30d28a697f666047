import { z } from 'zod';

/** One page of a listing; `nextCursor` is opaque and absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Items per page, 1 to 100'),
  cursor: z.string().max(2048).optional().describe('The nextCursor of the previous page'),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().optional().describe('Pass as cursor to get the next page') });
