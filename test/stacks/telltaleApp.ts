import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createTelltale } from '../../stacks/app.js';

/** The feature flags `cdk synth` runs with, so the tests build what the CLI builds. */
export const cdkJsonContext = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

/**
 * Builds the whole Telltale app as `cdk synth` does, minus esbuild bundling and the built-in
 * CloudFormation schema validation (seconds each, and not what these tests are about). cdk-nag still
 * runs during synth, so a build with an unacknowledged error finding throws here.
 */
export function buildTelltale(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'telltale-cdk-'));
  const cleanup = () => rmSync(outdir, { recursive: true, force: true });
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], ...context }, outdir, builtinCloudFormationValidation: false });
  let built: ReturnType<typeof createTelltale>;
  try {
    built = createTelltale(app);
    app.synth();
  } catch (error) {
    cleanup();
    throw error;
  }
  return {
    ...built,
    app,
    dataTemplate: Template.fromStack(built.data),
    apiTemplate: Template.fromStack(built.api),
    cleanup,
  };
}

/** The logical id of a construct's CloudFormation resource in its stack. */
export const logicalIdOf = (construct: IConstruct): string => Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
