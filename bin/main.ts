/** The CLI's entry: what the bundle runs (dist/telltale.mjs) and what bin/telltale.js runs from source. */
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
