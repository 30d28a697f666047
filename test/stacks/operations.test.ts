import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { catalog, workflows } from '../../shared/catalog.js';
import { queues } from '../../shared/platform/resources.js';
import { thresholds } from '../../stacks/constructs/operations.js';
import { buildTelltale } from './telltaleApp.js';

const built = buildTelltale({ opsEmail: 'ops@example.com' });
afterAll(() => built.cleanup());
const ops = Template.fromStack(built.api.operations);
const alarms = ops.findResources('AWS::CloudWatch::Alarm') as Record<string, { Properties: Record<string, unknown> }>;
const topicId = Object.keys(ops.findResources('AWS::SNS::Topic'))[0];
const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** The alarm whose logical id starts with `prefix` (ids are the construct ids plus a hash). */
function alarm(prefix: string) {
  const found = Object.entries(alarms).filter(([id]) => id.startsWith(`${prefix}Alarm`));
  expect(found, prefix).toHaveLength(1);
  return found[0][1].Properties;
}

/** Every alarm acts on the ops topic, and only on it. */
const expectOpsAction = (props: Record<string, unknown>) => expect(props.AlarmActions).toEqual([{ Ref: topicId }]);

describe('operations: CloudWatch alarms of the stage, to the ops topic', () => {
  const functions = catalog.filter((f) => f.trigger.kind !== 'cognito');

  it('every function has an errors and a throttles alarm at its first one in 5 minutes', () => {
    for (const f of functions) {
      for (const [kind, metricName, threshold] of [['Errors', 'Errors', thresholds.functionErrors], ['Throttles', 'Throttles', thresholds.functionThrottles]] as const) {
        const props = alarm(`${pascal(f.name)}${kind}`);
        expect(props).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metricName, Statistic: 'Sum', Period: 300, Threshold: threshold, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
        expect(JSON.stringify(props.Dimensions)).toContain('FunctionName');
        expectOpsAction(props);
      }
    }
  });

  it('the HTTP API: 5xx rate over 5 %, and p95 of POST /ml/predict over 50 ms with detailed metrics on that route', () => {
    const rate = alarm('Api5xxRate');
    expect(rate).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Average', Threshold: 0.05, ComparisonOperator: 'GreaterThanThreshold' });
    expectOpsAction(rate);
    const latency = alarm('PredictLatencyP95');
    expect(latency).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Latency', ExtendedStatistic: 'p95', Threshold: 50, ComparisonOperator: 'GreaterThanThreshold' });
    expect(latency.Dimensions).toEqual(expect.arrayContaining([{ Name: 'Method', Value: 'POST' }, { Name: 'Resource', Value: '/api/v1/ml/predict' }]));
    expectOpsAction(latency);
    const stage = Object.values(built.apiTemplate.findResources('AWS::ApiGatewayV2::Stage'))[0] as { Properties: { RouteSettings: Record<string, { DetailedMetricsEnabled?: boolean }> } };
    expect(stage.Properties.RouteSettings['POST /api/v1/ml/predict'].DetailedMetricsEnabled).toBe(true);
    expect(Object.values(stage.Properties.RouteSettings).filter((r) => r.DetailedMetricsEnabled)).toHaveLength(1);
  });

  it('every dead-letter queue alarms on its first visible message', () => {
    for (const name of [...Object.keys(queues), 'eventDeadLetters', 'asyncInvokeFailures']) {
      const props = alarm(`${pascal(name)}Visible`);
      expect(props).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expectOpsAction(props);
    }
    // The data stack's dead-letter queues reach the alarms through SSM parameters, as its other resources do.
    built.dataTemplate.hasResourceProperties('AWS::SSM::Parameter', { Name: '/telltale/dev/deadLetterQueue/ingest' });
  });

  it('every state machine alarms on a failed execution; the ingest queue on its oldest message past 5 minutes; the scorer on its lag', () => {
    for (const name of Object.keys(workflows)) {
      const props = alarm(`${pascal(name)}ExecutionsFailed`);
      expect(props).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expectOpsAction(props);
    }
    const age = alarm('IngestQueueAge');
    expect(age).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 300, EvaluationPeriods: 5, ComparisonOperator: 'GreaterThanThreshold' });
    expectOpsAction(age);
    const lag = alarm('ScoringLag');
    expect(lag).toMatchObject({ Namespace: 'Telltale/dev', MetricName: 'ScoringLag', Dimensions: [{ Name: 'service', Value: 'telltale-sensors' }], Threshold: 60_000, EvaluationPeriods: 5 });
    expectOpsAction(lag);
  });

  it('has no alarm the tests above do not name', () => {
    const expected = functions.length * 2 + 2 + Object.keys(queues).length + 2 + Object.keys(workflows).length + 2;
    expect(Object.keys(alarms)).toHaveLength(expected);
  });

  it('the ops topic is encrypted with a rotated key CloudWatch may use, takes TLS only, and -c opsEmail subscribes an address', () => {
    const keyId = Object.keys(ops.findResources('AWS::KMS::Key'))[0];
    expect(keyId).toMatch(/^OpsTopicKey/);
    ops.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    ops.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(JSON.stringify(ops.findResources('AWS::KMS::Key'))).toContain('cloudwatch.amazonaws.com');
    expect(JSON.stringify(ops.findResources('AWS::SNS::TopicPolicy'))).toContain('aws:SecureTransport');
    ops.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
  });

  it('one CloudWatch dashboard per stage, named as GET /monitoring/dashboards links it, showing every alarm', () => {
    const dashboards = Object.values(ops.findResources('AWS::CloudWatch::Dashboard')) as { Properties: { DashboardName: string; DashboardBody: unknown } }[];
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0].Properties.DashboardName).toBe('Telltale-dev');
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const id of Object.keys(alarms)) expect(body).toContain(id);
    const fn = built.apiTemplate.findResources('AWS::Lambda::Function');
    expect(JSON.stringify(fn)).toContain('"OPS_DASHBOARD_NAME":"Telltale-dev"');
  });
});
