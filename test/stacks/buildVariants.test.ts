import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTelltale, logicalIdOf } from './telltaleApp.js';

/**
 * cdk-nag 3 is a policy-validation plugin, not an aspect: its findings are not annotations (so
 * `Annotations.fromStack(...).findError(...)` would always be empty), they fail `app.synth()` and
 * land in the validation report. buildTelltale synthesizes, so an unacknowledged error already throws
 * there; these tests run the same pack on the synthesized tree (cross-stack references resolved,
 * as in `cdk synth`) and list what is left, by rule and construct path.
 */
const findingsOf = (built: ReturnType<typeof buildTelltale>) =>
  new AwsSolutionsChecks()
    .validateScope(built.app)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));

const builds = {
  dev: buildTelltale(),
  localstack: buildTelltale({ localstack: true }),
  prod: buildTelltale({ stage: 'prod', corsOrigins: 'https://console.example.com,https://ops.example.com', datasetMapConcurrency: '8' }),
};
afterAll(() => Object.values(builds).forEach((b) => b.cleanup()));

describe.each(Object.keys(builds) as (keyof typeof builds)[])('the %s build', (name) => {
  it('leaves no unacknowledged cdk-nag AwsSolutions finding, error or warning', () => {
    expect(findingsOf(builds[name])).toEqual([]);
  });
});

describe('the LocalStack build', () => {
  const { localstack, dev } = builds;

  it('leaves out what LocalStack Community cannot run: Cognito user pools and HTTP APIs', () => {
    localstack.dataTemplate.resourceCountIs('AWS::Cognito::UserPool', 0);
    localstack.apiTemplate.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
  });

  it('still creates every function that does not belong to Cognito', () => {
    expect([...localstack.api.functions.keys()].sort()).toEqual([...dev.api.functions.keys()].sort());
  });
});

describe('the prod build', () => {
  const { prod } = builds;

  it('keeps tables, buckets and the user pool when the stack goes, and protects them from deletion', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Cognito::UserPool']) {
      for (const resource of Object.values(prod.dataTemplate.findResources(type))) expect({ type, policy: resource.DeletionPolicy }).toEqual({ type, policy: 'Retain' });
    }
    prod.dataTemplate.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    prod.dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE' });
    prod.dataTemplate.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('keeps function logs for six months', () => {
    prod.apiTemplate.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 180 });
  });

  it('answers CORS preflight for the configured origins and tells the functions', () => {
    const origins = ['https://console.example.com', 'https://ops.example.com'];
    prod.apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: origins, AllowHeaders: Match.arrayWith(['authorization', 'x-correlation-id']), ExposeHeaders: ['x-correlation-id'] }),
    });
    prod.apiTemplate.allResourcesProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ CORS_ORIGINS: origins.join(','), STAGE: 'prod' }) } });
  });
});

/** The dataset pipeline's ASL as deployed: the Fn::Join of the DefinitionString, function ARNs left as placeholders. */
function datasetPipelineOf(built: ReturnType<typeof buildTelltale>) {
  const machine = built.apiTemplate.findResources('AWS::StepFunctions::StateMachine')[logicalIdOf(built.api.stateMachines.datasetPipeline)];
  const definition = machine.Properties.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
  const parts = typeof definition === 'string' ? [definition] : definition['Fn::Join'][1];
  const asl = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'ARN')).join('')) as { States: Record<string, { MaxConcurrency?: number; ItemProcessor?: { States: Record<string, { Retry: { ErrorEquals: string[]; MaxAttempts: number; MaxDelaySeconds?: number }[] }> } }> };
  const split = asl.States.Split;
  return { maxConcurrency: split.MaxConcurrency, itemRetries: Object.values(split.ItemProcessor!.States)[0].Retry };
}

describe('the Distributed Map of large datasets', () => {
  it('runs as many chunks at once as the deployment says (-c datasetMapConcurrency), 40 by default', () => {
    expect(datasetPipelineOf(builds.prod).maxConcurrency).toBe(8);
    expect(datasetPipelineOf(builds.dev).maxConcurrency).toBe(40);
  });

  it('retries a throttled chunk first, patiently, with jitter, before the shorter retries of other Lambda errors', () => {
    const [first] = datasetPipelineOf(builds.dev).itemRetries;
    expect(first).toMatchObject({ ErrorEquals: expect.arrayContaining(['Lambda.TooManyRequestsException']), MaxAttempts: 10, MaxDelaySeconds: 120, JitterStrategy: 'FULL' });
  });
});
