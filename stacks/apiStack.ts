import { ArnFormat, CfnOutput, Duration, Stack, Token, Validations, type CfnElement, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpRoute, HttpStage, LogGroupLogDestination, type CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Architecture, Code, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { existsSync } from 'node:fs';
import { buildModelsLayer, layerDir } from '../layers/build.js';
import { sagaDefinition, sagaFunctionNames } from '../shared/platform/saga.js';
import type { Construct } from 'constructs';
import { catalog, workflows, type WorkflowName } from '../shared/catalog.js';
import type { RouteContract } from '../shared/http/route.js';
import { bindReadingsTimestream, readingsTimestreamOf } from './readingsTimestream.js';
import { functionSettings, removalPolicyOf, type TelltaleConfig } from './config.js';
import { latencyAlarms, Operations } from './constructs/operations.js';
import { TelltaleFunction } from './constructs/telltaleFunction.js';
import { importDeadLetterQueues, importResources, type Auth } from './resourceParameters.js';

export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

export interface ApiStackProps extends StackProps {
  config: TelltaleConfig;
  /** Per-route limits under the stage-wide ones; defaults to {@link defaultRouteThrottle}. */
  routeThrottle?: (route: RouteContract) => Throttle;
}

/** Anonymous routes get the least room, writes less than reads. */
export const defaultRouteThrottle = (route: RouteContract): Throttle =>
  route.scope === null ? { rateLimit: 20, burstLimit: 40 } : route.method === 'GET' ? { rateLimit: 200, burstLimit: 400 } : { rateLimit: 100, burstLimit: 200 };

const routeKeyOf = (route: RouteContract) => `${route.method} ${route.path}`;
const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * The stateless stack: walks the catalog. HTTP functions become routes of one HTTP API behind the
 * Cognito JWT authorizer, queue functions get their SQS event source, tasks are only created.
 */
export class ApiStack extends Stack {
  /** Every function, by catalog name. */
  readonly functions: ReadonlyMap<string, TelltaleFunction>;
  readonly api: HttpApi | null;
  readonly stateMachines: Record<WorkflowName, StateMachine>;
  /** The alarms, the ops topic and the dashboard of the stage. */
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    // From the data stack's SSM parameters, not its exports (resourceParameters.ts); no auth on
    // LocalStack (no Cognito, no HTTP API in its Community edition): functions and triggers only.
    const { resources, auth } = importResources(this, config.stage, !config.localstack);
    const settings = functionSettings(config);

    const functions = new Map<string, TelltaleFunction>();
    const modelsLayer = this.modelsLayer(config);
    for (const fn of catalog.filter((f) => f.trigger.kind !== 'cognito')) {
      const id = pascal(fn.name);
      // LocalStack Community runs no layers: those functions ship onnxruntime-node in their own bundle there.
      const nodeModules = fn.usesModelsLayer && !modelsLayer ? ['onnxruntime-node'] : undefined;
      const created = new TelltaleFunction(this, id, { ...settings, declaration: fn, nodeModules }).bind(fn.binds, resources);
      if (fn.usesModelsLayer && modelsLayer) {
        created.addLayers(modelsLayer);
        created.addEnvironment('MODELS_DIR', '/opt/models');
      }
      functions.set(fn.name, created);
    }
    this.functions = functions;
    const timestream = readingsTimestreamOf(config);
    for (const fn of timestream ? functions.values() : []) {
      const access = fn.declaration.binds.tables?.readings;
      if (access) bindReadingsTimestream(fn, timestream!, access);
    }
    this.stateMachines = this.workflows(config, functions);
    for (const fn of functions.values()) {
      for (const name of Object.keys(fn.declaration.binds.stateMachines ?? {}) as WorkflowName[]) fn.bindStateMachine(name, this.stateMachines[name]);
    }
    // Events a target could not take after its retries land here instead of vanishing.
    const eventDeadLetters = new Queue(this, 'EventDeadLetters', { enforceSSL: true, encryption: QueueEncryption.SQS_MANAGED, retentionPeriod: Duration.days(14) });
    Validations.of(eventDeadLetters).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the EventBridge rule targets.' });
    const { queue: asyncFailureQueue, configure: asyncFailures } = this.asyncFailureDestination();

    for (const fn of functions.values()) {
      const trigger = fn.declaration.trigger;
      switch (trigger.kind) {
        case 'http': // routes of the HTTP API, below
        case 'task': // invoked by the pipeline's state machine
        case 'cognito': // wired to the user pool by the data stack
          break;
        case 'queue':
          fn.addEventSource(
            new SqsEventSource(resources.queues[trigger.queue], {
              batchSize: trigger.batchSize,
              // FIFO event sources take no batching window, not even a zero one.
              maxBatchingWindow: trigger.maxBatchingWindowSeconds > 0 ? Duration.seconds(trigger.maxBatchingWindowSeconds) : undefined,
              reportBatchItemFailures: true,
            }),
          );
          break;
        case 'event':
          new Rule(this, `${fn.node.id}Rule`, {
            eventBus: resources.bus,
            description: `${trigger.detailTypes.join(', ')} -> ${fn.declaration.name}`,
            eventPattern: { detailType: [...trigger.detailTypes], ...(trigger.source ? { source: [trigger.source] } : {}) },
            targets: [new LambdaFunction(fn, { retryAttempts: 3, maxEventAge: Duration.hours(2), deadLetterQueue: eventDeadLetters })],
          });
          asyncFailures(fn);
          break;
        case 'objectCreated':
          // S3 sends object events to the account's default bus only.
          new Rule(this, `${fn.node.id}Rule`, {
            eventBus: EventBus.fromEventBusName(this, `${fn.node.id}DefaultBus`, 'default'),
            description: `Object Created in ${trigger.bucket} matching ${trigger.keyPattern} -> ${fn.declaration.name}`,
            eventPattern: {
              source: ['aws.s3'],
              detailType: ['Object Created'],
              detail: { bucket: { name: [resources.buckets[trigger.bucket].bucketName] }, object: { key: [{ wildcard: trigger.keyPattern }] } },
            },
            targets: [new LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: eventDeadLetters })],
          });
          asyncFailures(fn);
          break;
        case 'schedule': {
          // EventBridge Scheduler: the event carries the scheduled time, so a retried tick is the same tick.
          const role = new Role(this, `${fn.node.id}ScheduleRole`, { assumedBy: new ServicePrincipal('scheduler.amazonaws.com'), description: `Invokes ${fn.declaration.name} on its schedule` });
          Validations.of(role).acknowledge({
            id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
            reason: 'lambda:InvokeFunction on the scheduled function and its versions (the :* suffix), as the Scheduler target grants it.',
          });
          new Schedule(this, `${fn.node.id}Schedule`, {
            description: `Every ${trigger.everyMinutes} minute(s) -> ${fn.declaration.name}`,
            schedule: ScheduleExpression.rate(Duration.minutes(trigger.everyMinutes)),
            target: new LambdaInvoke(fn, {
              role,
              input: ScheduleTargetInput.fromObject({ source: 'telltale.schedule', 'detail-type': 'Scheduled Event', time: ContextAttribute.scheduledTime }),
              retryAttempts: 2,
              maxEventAge: Duration.minutes(10),
              deadLetterQueue: eventDeadLetters,
            }),
          });
          break;
        }
        default:
          // A new trigger kind must be wired here before the app synthesizes.
          throw new Error(`No wiring for the trigger of ${fn.declaration.name}: ${JSON.stringify(trigger satisfies never)}`);
      }
    }

    const http = auth ? this.httpApi(config, auth, functions, props.routeThrottle ?? defaultRouteThrottle) : null;
    this.api = http?.api ?? null;
    this.operations = new Operations(this, 'Operations', {
      stage: config.stage,
      opsEmail: config.opsEmail,
      removalPolicy: removalPolicyOf(config),
      functions,
      stateMachines: this.stateMachines,
      httpStage: http?.stage ?? null,
      ingestQueue: resources.queues.ingest,
      deadLetterQueues: { ...importDeadLetterQueues(this, config.stage), eventDeadLetters, asyncInvokeFailures: asyncFailureQueue },
    });
  }

  /**
   * EventBridge invokes its Lambda targets asynchronously: the rule's retries and dead-letter queue
   * only see delivery failures, never the function's own errors. Lambda's retries of a failed
   * asynchronous invocation end here instead (an on-failure destination, the request and the
   * error in each message); the operations alarms watch it as they watch every dead-letter queue.
   */
  private asyncFailureDestination(): { queue: Queue; configure: (fn: TelltaleFunction) => void } {
    const queue = new Queue(this, 'AsyncInvokeFailures', { enforceSSL: true, encryption: QueueEncryption.SQS_MANAGED, retentionPeriod: Duration.days(14) });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter destination of failed asynchronous invocations.' });
    return { queue, configure: (fn) => fn.configureAsyncInvoke({ onFailure: new SqsDestination(queue), retryAttempts: 2, maxEventAge: Duration.hours(6) }) };
  }

  /** The models layer: the onnxruntime addon (linux-x64 only) and the baseline models, built by layers/build.ts. */
  private modelsLayer(config: TelltaleConfig): LayerVersion | undefined {
    if (config.localstack || !catalog.some((f) => f.usesModelsLayer)) return undefined;
    if (!existsSync(layerDir)) buildModelsLayer();
    return new LayerVersion(this, 'ModelsLayer', {
      code: Code.fromAsset(layerDir),
      compatibleRuntimes: [Runtime.NODEJS_24_X],
      compatibleArchitectures: [Architecture.X86_64],
      description: 'onnxruntime-node (linux-x64) and Telltale baseline models',
      removalPolicy: removalPolicyOf(config),
    });
  }

  /** One Step Functions state machine per saga in `workflows`, its task states bound to the catalog's functions. */
  private workflows(config: TelltaleConfig, functions: ReadonlyMap<string, TelltaleFunction>): Record<WorkflowName, StateMachine> {
    const built = {} as Record<WorkflowName, StateMachine>;
    for (const [name, saga] of Object.entries(workflows) as [WorkflowName, (typeof workflows)[WorkflowName]][]) {
      const invoked = sagaFunctionNames(saga).map((n) => {
        const fn = functions.get(n);
        if (!fn) throw new Error(`Workflow ${name} invokes ${n}, which is not in the catalog`);
        return fn;
      });
      const definition = sagaDefinition(saga, { mapConcurrency: config.datasetMapConcurrency });
      const distributed = JSON.stringify(definition).includes('"DISTRIBUTED"');
      // A Distributed Map starts child executions of its own state machine: the role needs its ARN,
      // which a fixed name gives without a dependency cycle.
      const stateMachineName = distributed ? `${this.stackName}-${name}`.slice(0, 80) : undefined;
      const machine = new StateMachine(this, `${pascal(name)}StateMachine`, {
        ...(stateMachineName ? { stateMachineName } : {}),
        stateMachineType: StateMachineType.STANDARD,
        definitionBody: DefinitionBody.fromString(JSON.stringify(definition)),
        definitionSubstitutions: Object.fromEntries(invoked.map((fn) => [fn.declaration.name, fn.functionArn])),
        tracingEnabled: true,
        logs: {
          destination: new LogGroup(this, `${pascal(name)}Logs`, { retention: functionSettings(config).logRetention, removalPolicy: removalPolicyOf(config) }),
          level: LogLevel.ALL,
          includeExecutionData: false,
        },
      });
      for (const fn of invoked) {
        fn.grantInvoke(machine);
        Validations.of(machine.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
          reason: 'lambda:InvokeFunction on the function and its versions (the :* suffix), as the Step Functions Lambda integration needs.',
        });
      }
      if (stateMachineName) {
        const arnOf = (resource: string, resourceName: string) => this.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
        machine.addToRolePolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [arnOf('stateMachine', stateMachineName)] }));
        machine.addToRolePolicy(new PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [`${arnOf('execution', stateMachineName)}/*`] }));
        Validations.of(machine.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${Token.isUnresolved(this.region) ? '<AWS::Region>' : this.region}:${Token.isUnresolved(this.account) ? '<AWS::AccountId>' : this.account}:execution:${stateMachineName}/*]`,
          reason: 'The Distributed Map describes and stops the child executions it starts, whose names Step Functions generates.',
        });
      }
      Validations.of(machine.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing and CloudWatch Logs delivery of Step Functions support no resource-level permissions.',
      });
      built[name] = machine;
    }
    return built;
  }

  private httpApi(config: TelltaleConfig, auth: Auth, functions: ReadonlyMap<string, TelltaleFunction>, routeThrottle: (route: RouteContract) => Throttle): { api: HttpApi; stage: HttpStage } {
    const api = new HttpApi(this, 'HttpApi', {
      description: `Telltale API (${config.stage})`,
      createDefaultStage: false,
      corsPreflight:
        config.corsOrigins.length > 0
          ? {
              allowOrigins: config.corsOrigins,
              allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.PATCH, CorsHttpMethod.DELETE, CorsHttpMethod.OPTIONS],
              allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-correlation-id'],
              exposeHeaders: ['x-correlation-id'],
              maxAge: Duration.hours(1),
            }
          : undefined,
    });
    const authorizer = new HttpUserPoolAuthorizer('CognitoAuthorizer', auth.userPool, { userPoolClients: Object.values(auth.clients) });

    const routes: { route: RouteContract; construct: HttpRoute[] }[] = [];
    for (const fn of functions.values()) {
      const trigger = fn.declaration.trigger;
      if (trigger.kind !== 'http') continue;
      const { route } = trigger;
      const integration = new HttpLambdaIntegration(`${fn.node.id}Integration`, fn);
      const added = api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        ...(route.scope === null ? {} : { authorizer, authorizationScopes: [route.scope] }),
      });
      if (route.scope === null) {
        for (const r of added) Validations.of(r).acknowledge({ id: 'AwsSolutions-APIG4', reason: `${routeKeyOf(route)} is public by design (health probe or API document).` });
      }
      routes.push({ route, construct: added });
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: functionSettings(config).logRetention, removalPolicy: removalPolicyOf(config) });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.rateLimit, burstLimit: config.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // HTTP API cannot log request headers: requestId is the correlation id the functions log and
        // return, unless the caller sent its own x-correlation-id.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            tenant: '$context.authorizer.claims.tenant',
            clientId: '$context.authorizer.claims.client_id',
            sourceIp: '$context.identity.sourceIp',
            responseLength: '$context.responseLength',
          }),
        ),
      },
    });
    const cfnStage = stage.node.defaultChild as CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      routes.map(({ route }) => {
        const t = routeThrottle(route);
        // CloudFormation's RouteSettings is untyped JSON: the property names must be written as CloudFormation spells them.
        // Routes with a latency alarm need their own metrics (detailed metrics, per route).
        const detailed = latencyAlarms.some((a) => routeKeyOf(a.route) === routeKeyOf(route));
        return [routeKeyOf(route), { ThrottlingRateLimit: t.rateLimit, ThrottlingBurstLimit: t.burstLimit, ...(detailed ? { DetailedMetricsEnabled: true } : {}) }];
      }),
    );
    // Route settings name route keys, which must exist before the stage is updated.
    for (const { construct } of routes) for (const r of construct) stage.node.addDependency(r);

    new CfnOutput(this, 'ApiUrl', { value: stage.url, description: 'Base URL; routes start with /api/v1' });
    return { api, stage };
  }
}
