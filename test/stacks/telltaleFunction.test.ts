import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '../../shared/catalog.js';
import { TelltaleFunction } from '../../stacks/constructs/telltaleFunction.js';

const outdirs: string[] = [];
afterEach(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** One TelltaleFunction in a stack checked by cdk-nag, as the app is; `extend` adds to its role. */
function synthesize(extend: (fn: TelltaleFunction) => void = () => undefined) {
  const outdir = mkdtempSync(join(tmpdir(), 'telltale-fn-'));
  outdirs.push(outdir);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
  const stack = new Stack(app, 'Functions');
  const declaration = catalog.find((f) => f.name === 'openApiDocument')!;
  const fn = new TelltaleFunction(stack, 'Fn', { declaration, stage: 'test', serviceVersion: '0', tenantClaim: 'tenant', logRetention: RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY });
  extend(fn);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return () => app.synth();
}

describe('the cdk-nag acknowledgment of X-Ray', () => {
  it('covers the X-Ray grant: a traced function synthesizes clean', () => {
    expect(synthesize()).not.toThrow();
  });

  it('covers nothing else: a wildcard resource granted to the function fails synth', () => {
    const synth = synthesize((fn) => fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })));
    expect(synth).toThrow(/AwsSolutions-IAM5/);
  });
});
