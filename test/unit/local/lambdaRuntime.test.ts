import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { taskDeclaration } from '../../fixtures/functions/declaration.js';
import { catalogFunctions, invokeFunction } from '../../../local/lambdaRuntime.js';

const declaration = (name: string) => taskDeclaration(name, 'test/fixtures/functions/reportsBus.ts');

describe('local functions in one process', () => {
  it('each load and run with only their own environment, so an unbound name fails as on Lambda', async () => {
    const environments: Record<string, Record<string, string>> = {
      publisher: { STAGE: 'publisher-stage', BUS_EVENTS: 'the-bus' },
      validator: { STAGE: 'validator-stage' },
    };
    const functions = catalogFunctions([declaration('publisher'), declaration('validator')], process.cwd(), { environmentOf: (d) => environments[d.name] });

    expect(await invokeFunction(functions.get('publisher')!, {})).toEqual({ stageAtLoad: 'publisher-stage', bus: 'the-bus' });
    expect(await invokeFunction(functions.get('validator')!, {})).toEqual({
      stageAtLoad: 'publisher-stage',
      error: 'Invalid configuration: BUS_EVENTS is not set (is bus events bound to this function?)',
    });
    expect(process.env.BUS_EVENTS).toBeUndefined();
  });

  it('load in their own environment when loaded together and their modules share one with a top-level await', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/functions/loadTogether.ts'], { cwd: process.cwd() });
    expect(JSON.parse(stdout)).toEqual(['stageAtLoadA-stage', 'stageAtLoadB-stage']);
  }, 20_000);
});
