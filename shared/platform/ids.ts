import { z } from 'zod';

/**
 * Ids chosen by users end up in keys, S3 paths and URLs: a safe alphabet, no separators,
 * no dot-dot, no leading punctuation.
 */
export const resourceId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'Use letters, digits, "_", "." and "-", starting with a letter or digit')
  .refine((v) => !v.includes('..'), 'Must not contain ".."');
