#!/usr/bin/env node
/* global process */
// The telltale CLI: TypeScript run through tsx, so the commands use the platform's domain code as is.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
