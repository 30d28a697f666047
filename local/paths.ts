import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder (local data defaults to `.telltale/` in it). */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
