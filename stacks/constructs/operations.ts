import { Duration, NestedStack, type NestedStackProps, type RemovalPolicy } from 'aws-cdk-lib';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, AlarmStatusWidget, ComparisonOperator, Dashboard, GraphWidget, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { RouteContract } from '../../shared/http/route.js';
import { predictRoute } from '../../shared/ml/registry/contract.js';
import { opsDashboardName } from '../../shared/monitoring/dashboards.js';
import { metricsNamespace } from '../../shared/platform/functionEnvironment.js';

/** Routes whose p95 latency is alarmed, and the threshold: predict over 50 ms is the seed system's own trigger for splitting it out. */
export const latencyAlarms: readonly { route: RouteContract; p95Ms: number }[] = [{ route: predictRoute, p95Ms: 50 }];

/** The thresholds of the alarms, in one place (the README and the stack tests read them here). */
export const thresholds = {
  /** Errors or throttles of a function in 5 minutes. */
  functionErrors: 1,
  functionThrottles: 1,
  /** Share of the HTTP API's answers that are 5xx, over 5 minutes. */
  api5xxRate: 0.05,
  /** Messages visible in a dead-letter queue. */
  deadLetters: 1,
  /** Failed executions of a state machine in 5 minutes. */
  failedExecutions: 1,
  /** Seconds the oldest ingest message waits, 5 minutes running. */
  ingestAgeSeconds: 300,
  /** The scorer's largest lag, in ms, 5 minutes running (a reading's way to anomaly.opened aims at 2 s). */
  scoringLagMs: 60_000,
} as const;

export interface OperationsProps extends NestedStackProps {
  stage: string;
  /** An address subscribed to the ops topic (`-c opsEmail=...`). */
  opsEmail?: string;
  removalPolicy: RemovalPolicy;
  /** Every function of the catalog, by its catalog name. */
  functions: ReadonlyMap<string, IFunction>;
  stateMachines: Readonly<Record<string, IStateMachine>>;
  /** The HTTP API's stage; none on LocalStack. */
  httpStage: HttpStage | null;
  ingestQueue: IQueue;
  /** Every dead-letter queue, by a name for the alarm. */
  deadLetterQueues: Readonly<Record<string, IQueue>>;
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const fiveMinutes = Duration.minutes(5);

/**
 * The operators' CloudWatch side of a stage, in its own nested stack (the API stack is near
 * CloudFormation's 500 resources): an alarm on every function, the API, every dead-letter queue,
 * every state machine, the ingest queue's age and the scoring lag, all acting on one encrypted ops
 * topic; and one dashboard of the alarms and key metrics. Everything is walked, nothing listed.
 */
export class Operations extends NestedStack {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id, props);
    // CloudWatch publishes to an encrypted topic only through a customer managed key it may use.
    const key = new Key(this, 'OpsTopicKey', { enableKeyRotation: true, description: `Telltale ${props.stage}: the ops alarm topic`, removalPolicy: props.removalPolicy });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'OpsTopic', { displayName: `Telltale ${props.stage} alarms`, masterKey: key, enforceSSL: true });
    if (props.opsEmail) this.topic.addSubscription(new EmailSubscription(props.opsEmail));
    const action = new SnsAction(this.topic);

    const alarm = (name: string, description: string, metric: IMetric, threshold: number, comparison: ComparisonOperator, evaluationPeriods = 1) => {
      const created = new Alarm(this, `${name}Alarm`, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: comparison,
        // No data is no trouble: a function that did not run had no errors.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };
    const atLeast = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const over = ComparisonOperator.GREATER_THAN_THRESHOLD;

    for (const [name, fn] of props.functions) {
      alarm(`${pascal(name)}Errors`, `${name} failed (errors in 5 minutes)`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), thresholds.functionErrors, atLeast);
      alarm(`${pascal(name)}Throttles`, `${name} was throttled (throttles in 5 minutes)`, fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), thresholds.functionThrottles, atLeast);
    }
    for (const [name, machine] of Object.entries(props.stateMachines)) {
      alarm(`${pascal(name)}ExecutionsFailed`, `A ${name} execution failed`, machine.metricFailed({ period: fiveMinutes, statistic: 'Sum' }), thresholds.failedExecutions, atLeast);
    }
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${pascal(name)}Visible`,
        `Messages in the ${name} dead-letter queue: see them with telltale dlq list, move them back with telltale dlq redrive`,
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        thresholds.deadLetters,
        atLeast,
      );
    }
    const ingestAge = props.ingestQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' });
    alarm('IngestQueueAge', 'Readings wait in the ingest queue: the writer falls behind', ingestAge, thresholds.ingestAgeSeconds, over, 5);
    // The scorer's EMF metric (shared/aws/metricCounters.ts): namespace of the stage, dimension service.
    const scoringLag = new Metric({ namespace: metricsNamespace(props.stage), metricName: 'ScoringLag', dimensionsMap: { service: 'telltale-sensors' }, period: Duration.minutes(1), statistic: 'Maximum' });
    alarm('ScoringLag', 'Readings wait to be scored: anomalies are noticed late', scoringLag, thresholds.scoringLagMs, over, 5);

    const apiGraphs: GraphWidget[] = [];
    if (props.httpStage) {
      const stage = props.httpStage;
      const errorRate = stage.metricServerError({ period: fiveMinutes, statistic: 'Average' });
      alarm('Api5xxRate', `More than ${thresholds.api5xxRate * 100} % of the API's answers are 5xx`, errorRate, thresholds.api5xxRate, over);
      for (const { route, p95Ms } of latencyAlarms) {
        // Per-route metrics need detailed metrics on the route (the API stack turns them on for these routes).
        const latency = new Metric({
          namespace: 'AWS/ApiGateway',
          metricName: 'Latency',
          dimensionsMap: { ApiId: stage.api.apiId, Stage: stage.stageName, Method: route.method, Resource: route.path },
          period: fiveMinutes,
          statistic: 'p95',
        });
        alarm(`${pascal(route.operationId)}LatencyP95`, `p95 latency of ${route.method} ${route.path} over ${p95Ms} ms`, latency, p95Ms, over);
        apiGraphs.push(new GraphWidget({ title: `${route.method} ${route.path} p95 (ms)`, left: [latency], width: 8 }));
      }
      apiGraphs.unshift(new GraphWidget({ title: 'API requests and 5xx', left: [stage.metricCount({ period: fiveMinutes, statistic: 'Sum' })], right: [stage.metricServerError({ period: fiveMinutes, statistic: 'Sum' })], width: 8 }));
    }

    const figure = (metricName: string, statistic = 'Sum') => new Metric({ namespace: metricsNamespace(props.stage), metricName, period: fiveMinutes, statistic, dimensionsMap: { service: metricName === 'PredictLatency' ? 'telltale-ml' : 'telltale-sensors' } });
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: opsDashboardName(props.stage) });
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: `Telltale ${props.stage}: alarms`, alarms: this.alarms, width: 24, height: 8 }));
    this.dashboard.addWidgets(
      ...apiGraphs,
      new GraphWidget({ title: 'Ingest queue: oldest message (s)', left: [ingestAge], width: 8 }),
      new GraphWidget({ title: 'Scoring lag (ms)', left: [scoringLag], width: 8 }),
      new GraphWidget({ title: 'Readings ingested and rejected', left: [figure('ReadingsIngested'), figure('ReadingsRejected')], width: 8 }),
      new GraphWidget({ title: 'Predict latency p95 (ms)', left: [figure('PredictLatency', 'p95')], width: 8 }),
    );
  }
}
