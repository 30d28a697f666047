import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { catalog, httpFunctions, workflows } from '../../shared/catalog.js';
import { sagaFunctionNames } from '../../shared/platform/saga.js';
import { envNameOf } from '../../shared/platform/config.js';
import { queues, tables } from '../../shared/platform/resources.js';
import { buildTelltale, logicalIdOf } from './telltaleApp.js';

const built = buildTelltale();
const { api, data, apiTemplate, dataTemplate } = built;
afterAll(() => built.cleanup());

/** Every function of the catalog, wherever its stack put it, with the template that holds it. */
const deployed = catalog.map((declaration) => {
  const fn = api.functions.get(declaration.name) ?? data.node.tryFindChild(declaration.name.charAt(0).toUpperCase() + declaration.name.slice(1));
  if (!fn) throw new Error(`catalog function ${declaration.name} is in no stack`);
  const template = api.functions.has(declaration.name) ? apiTemplate : dataTemplate;
  return { declaration, fn, template };
});

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
/** A table in a policy: by its logical id in its own stack, by the SSM parameter of its name in the API stack. */
const tableReference = (name: string) => new RegExp(`${pascal(name)}Table[0-9A-F]{8}|SsmParameterValuetelltale[a-z0-9]*table${name}[0-9A-F]{32}Parameter`);

/** The policy documents attached to a function's role, as one string to search for table references. */
const policiesOf = (entry: (typeof deployed)[number]): string => {
  const role = (entry.fn as unknown as { role: Parameters<typeof logicalIdOf>[0] }).role;
  const policies = entry.template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: logicalIdOf(role) }]) } });
  return JSON.stringify(Object.values(policies).map((p) => (p as { Properties: { PolicyDocument: unknown } }).Properties.PolicyDocument));
};

describe('every catalog function', () => {
  it.each(deployed.map((d) => [d.declaration.name, d] as const))('%s runs on nodejs24.x with active tracing, its memory, timeout and architecture', (_name, { declaration, fn, template }) => {
    template.hasResource('AWS::Lambda::Function', {
      Properties: {
        Runtime: 'nodejs24.x',
        TracingConfig: { Mode: 'Active' },
        MemorySize: declaration.memoryMb,
        Timeout: declaration.timeoutSeconds,
        Architectures: [declaration.architecture],
        Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps', TENANT_CLAIM: 'tenant', POWERTOOLS_SERVICE_NAME: `telltale-${declaration.context}`, STAGE: 'dev' }) },
        LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp(`^${pascal(declaration.name)}Logs`) } },
      },
    });
    expect(template.findResources('AWS::Lambda::Function')[logicalIdOf(fn)]).toBeDefined();
  });

  it.each(deployed.map((d) => [d.declaration.name, d] as const))('%s logs to a log group with a retention', (_name, { declaration, template }) => {
    const groups = Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([id]) => id.startsWith(`${pascal(declaration.name)}Logs`));
    expect(groups).toHaveLength(1);
    expect((groups[0][1] as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays).toBe(14);
  });

  it.each(deployed.map((d) => [d.declaration.name, d] as const))('%s gets an env var for each bound table and a grant on those tables only', (_name, entry) => {
    const bound = Object.keys(entry.declaration.binds.tables ?? {});
    const env = entry.template.findResources('AWS::Lambda::Function')[logicalIdOf(entry.fn)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    const policies = policiesOf(entry);
    for (const name of Object.keys(tables)) {
      const mentioned = tableReference(name).test(policies);
      expect({ table: name, granted: mentioned, env: envNameOf('TABLE', name) in env.Properties.Environment.Variables }).toEqual({
        table: name,
        granted: bound.includes(name),
        env: bound.includes(name),
      });
    }
  });

  it('the sensor registry functions can touch the sensors table and no other', () => {
    const sensorFunctions = deployed.filter((d) => ['registerSensor', 'listSensors', 'getSensor'].includes(d.declaration.name));
    expect(sensorFunctions).toHaveLength(3);
    for (const entry of sensorFunctions) {
      const granted = Object.keys(tables).filter((name) => tableReference(name).test(policiesOf(entry)));
      expect(granted).toEqual(['sensors']);
    }
  });

  it("the sensors context's other functions touch only its tables, save the scorer's warm-up datasets, ingestion's idempotency records and the two's platform counters", () => {
    const others = deployed.filter((d) => d.declaration.context === 'sensors' && !['registerSensor', 'listSensors', 'getSensor'].includes(d.declaration.name));
    expect(others.map((d) => d.declaration.name)).toEqual(expect.arrayContaining(['ingestReadings', 'storeReadings', 'getReadings', 'scoreReadings', 'scoreGroupReadings', 'listAnomalies', 'getAnomaly', 'reviewAnomaly']));
    for (const entry of others) {
      // The group model scorer runs POST /ml/predict's code in process, so it reads what predict reads (the models and the deployments).
      const allowed = [
        'sensors',
        'readings',
        'anomalies',
        ...(['ingestReadings', 'scoreReadings'].includes(entry.declaration.name) ? ['monitoring'] : []),
        ...(entry.declaration.name === 'scoreReadings' ? ['datasets'] : []),
        ...(entry.declaration.name === 'ingestReadings' ? ['idempotency'] : []),
        ...(entry.declaration.name === 'scoreGroupReadings' ? ['models', 'registry'] : []),
      ];
      const granted = Object.keys(tables).filter((name) => tableReference(name).test(policiesOf(entry)));
      expect(granted.filter((name) => !allowed.includes(name)), entry.declaration.name).toEqual([]);
    }
  });

  it.each(deployed.map((d) => [d.declaration.name, d] as const))('%s is granted nothing on every resource but X-Ray', (_name, entry) => {
    const statements = (JSON.parse(policiesOf(entry)) as { Statement: { Action: string | string[]; Resource: unknown }[] }[]).flatMap((d) => d.Statement);
    const unscoped = statements.filter((s) => [s.Resource].flat().includes('*')).flatMap((s) => [s.Action].flat());
    expect(unscoped.filter((action) => !action.startsWith('xray:'))).toEqual([]);
  });

  it('read-only functions get no write actions', () => {
    const getSensor = deployed.find((d) => d.declaration.name === 'getSensor')!;
    expect(policiesOf(getSensor)).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
    const registerSensor = deployed.find((d) => d.declaration.name === 'registerSensor')!;
    expect(policiesOf(registerSensor)).toMatch(/dynamodb:PutItem/);
  });

  it('only deleteDataset may delete object versions (the buckets are versioned: deleting a key keeps its data)', () => {
    const purging = deployed.filter((d) => /s3:DeleteObjectVersion|s3:ListBucketVersions/.test(policiesOf(d)));
    expect(purging.map((d) => d.declaration.name)).toEqual(['deleteDataset']);
    const policies = policiesOf(purging[0]);
    expect(policies).toMatch(/s3:DeleteObjectVersion/);
    expect(policies).toMatch(/s3:ListBucketVersions/);
    expect(policies).not.toMatch(/s3:PutObject|s3:GetObject/);
  });
});

type Statement = { Action: string | string[]; Resource: unknown };
const statementsOf = (name: string): Statement[] => {
  const entry = deployed.find((d) => d.declaration.name === name)!;
  return (JSON.parse(policiesOf(entry)) as { Statement: Statement[] }[]).flatMap((d) => d.Statement);
};
/** Each S3 action a function may take, as `<action> <bucket>:<key pattern>`, `<action> <bucket>` for bucket actions. */
const s3GrantsOf = (name: string): string[] =>
  statementsOf(name)
    .flatMap((st) => [st.Action].flat().filter((a) => a.startsWith('s3:')).flatMap((action) => [st.Resource].flat().map((r) => [action, JSON.stringify(r)] as const)))
    .map(([action, resource]) => {
      const keys = /"(\/[^"]*)"\]\]\}$/.exec(resource)?.[1];
      const bucket = /models/i.test(keys ? resource.slice(0, -keys.length) : resource) ? 'models' : 'datasets';
      return `${action} ${bucket}${keys ? `:${keys.slice(1)}` : ''}`;
    })
    .sort();

describe('between the stacks', () => {
  const parameters = (apiTemplate.toJSON().Parameters ?? {}) as Record<string, { Type: string; Default?: string }>;

  it('the API stack imports no export of the data stack, so a resource can be replaced or a binding dropped', () => {
    expect(JSON.stringify(apiTemplate.toJSON())).not.toContain('Fn::ImportValue');
    const exported = Object.values((dataTemplate.toJSON().Outputs ?? {}) as Record<string, { Export?: unknown }>).filter((o) => o.Export !== undefined);
    expect(exported).toEqual([]);
  });

  it('reads every name it uses from an SSM parameter the data stack writes, at deploy time', () => {
    const read = Object.values(parameters)
      .filter((p) => p.Type === 'AWS::SSM::Parameter::Value<String>' && !p.Default?.startsWith('/cdk-bootstrap/'))
      .map((p) => p.Default);
    const written = Object.values(dataTemplate.findResources('AWS::SSM::Parameter')).map((p) => (p.Properties as { Name: string; Type: string }).Name);
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((name) => !written.includes(name!))).toEqual([]);
    expect(read.every((name) => name!.startsWith('/telltale/dev/'))).toBe(true);
    dataTemplate.allResourcesProperties('AWS::SSM::Parameter', { Type: 'String' });
  });

  it('declares a parameter only for what it uses', () => {
    const used = JSON.stringify(apiTemplate.toJSON().Resources);
    const unused = Object.keys(parameters).filter((id) => id.startsWith('SsmParameterValuetelltale') && !used.includes(`{"Ref":"${id}"}`));
    expect(unused).toEqual([]);
  });

  it('is deployed after the data stack', () => {
    expect(api.dependencies).toContain(data);
  });
});

describe('least privilege', () => {
  it('the health checks may only describe the table and head the bucket they probe', () => {
    for (const name of ['health', 'healthDependencies']) {
      const actions = statementsOf(name).flatMap((st) => [st.Action].flat()).filter((a) => /^(dynamodb|s3):/.test(a));
      expect(actions.sort(), name).toEqual(['dynamodb:DescribeTable', 's3:ListBucket']);
    }
  });

  it('plan reads the raw file and writes only its run\'s scratch (the chunk layout)', () => {
    expect(s3GrantsOf('planDatasetStep')).toEqual(
      [
        's3:GetObject datasets:datasets/*/*/raw/*',
        's3:GetObjectVersion datasets:datasets/*/*/raw/*',
        's3:ListBucket datasets',
        's3:PutObject datasets:work/*/*/*/*',
        's3:AbortMultipartUpload datasets:work/*/*/*/*',
      ].sort(),
    );
  });

  it('undo deletes runs\' outputs and scratch, and reads or writes nothing', () => {
    expect(s3GrantsOf('undoDatasetStep')).toEqual(
      [
        's3:DeleteObject datasets:work/*/*/*/*',
        's3:DeleteObject datasets:datasets/*/*/runs/*/*',
        's3:ListBucket datasets',
      ].sort(),
    );
  });

  it('registering a dataset may only put and read back raw files, never delete', () => {
    expect(s3GrantsOf('registerDataset')).toEqual(
      [
        's3:AbortMultipartUpload datasets:datasets/*/*/raw/*',
        's3:GetObject datasets:datasets/*/*/raw/*',
        's3:GetObjectVersion datasets:datasets/*/*/raw/*',
        's3:ListBucket datasets',
        's3:PutObject datasets:datasets/*/*/raw/*',
      ].sort(),
    );
  });

  it('no function has an object grant on every key of a bucket', () => {
    for (const { declaration } of deployed) expect(s3GrantsOf(declaration.name).filter((g) => g.endsWith(':*')), declaration.name).toEqual([]);
  });
});

describe('streaming scoring and anomaly episodes', () => {
  const entryOf = (name: string) => deployed.find((d) => d.declaration.name === name)!;

  it('the scorer reads the scoring queue with partial batch responses, and only it may put anomaly events on the bus', () => {
    const scorer = entryOf('scoreReadings');
    const mappings = Object.values(apiTemplate.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalIdOf(scorer.fn) } } })) as {
      Properties: { EventSourceArn: unknown; FunctionResponseTypes: string[] };
    }[];
    expect(mappings).toHaveLength(1);
    // However the data stack hands the queue over (an export, a parameter), its reference names the scoring queue.
    expect(JSON.stringify(mappings[0].Properties.EventSourceArn)).toMatch(/scoring/i);
    expect(JSON.stringify(mappings[0].Properties.EventSourceArn)).not.toMatch(/ingest/i);
    expect(mappings[0].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(policiesOf(scorer)).toMatch(/events:PutEvents/);
    expect(policiesOf(scorer)).toMatch(/sqs:ReceiveMessage/);
    for (const name of ['listAnomalies', 'getAnomaly']) expect(policiesOf(entryOf(name))).not.toMatch(/events:PutEvents|sqs:/);
    // A verdict is announced (anomaly.reviewed), for the ml context's labels.
    expect(policiesOf(entryOf('reviewAnomaly'))).toMatch(/events:PutEvents/);
    expect(policiesOf(entryOf('reviewAnomaly'))).not.toMatch(/sqs:/);
  });

  it("the scorer sends grouped sensors' readings to the group-scoring queue, whose consumer runs onnxruntime (x86_64, the models layer) and only reads the models", () => {
    const scorer = entryOf('scoreReadings');
    expect(policiesOf(scorer)).toMatch(/sqs:SendMessage/);
    expect(JSON.stringify(policiesOf(scorer))).toMatch(/groupScoring/i);
    const group = entryOf('scoreGroupReadings');
    const mappings = Object.values(apiTemplate.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalIdOf(group.fn) } } })) as {
      Properties: { EventSourceArn: unknown; FunctionResponseTypes: string[] };
    }[];
    expect(mappings).toHaveLength(1);
    expect(JSON.stringify(mappings[0].Properties.EventSourceArn)).toMatch(/groupScoring/i);
    expect(mappings[0].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const fn = group.template.findResources('AWS::Lambda::Function')[logicalIdOf(group.fn)] as { Properties: { Architectures: string[]; Layers?: unknown[] } };
    expect(fn.Properties.Architectures).toEqual(['x86_64']);
    expect(fn.Properties.Layers).toHaveLength(1);
    expect(policiesOf(group)).toMatch(/events:PutEvents/);
    // Reads the models and the deployments as predict does, never writes them; writes only its episodes and state.
    const statements = (JSON.parse(policiesOf(group)) as { Statement: { Action: string | string[]; Resource: unknown }[] }[]).flatMap((d) => d.Statement);
    for (const name of ['models', 'registry', 'readings']) {
      const actions = statements.filter((st) => tableReference(name).test(JSON.stringify(st.Resource))).flatMap((st) => [st.Action].flat());
      expect(actions.length, name).toBeGreaterThan(0);
      expect(actions.filter((a) => /Put|Update|Delete|Write/.test(a)), name).toEqual([]);
    }
  });

  it("the ml context keeps verdicts from anomaly.reviewed in its own table, and reads no table of the sensors context", () => {
    const labels = entryOf('recordVerdictLabel');
    apiTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ 'detail-type': ['anomaly.reviewed'] }),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(labels.fn), 'Arn'] } })],
    });
    const granted = Object.keys(tables).filter((name) => tableReference(name).test(policiesOf(labels)));
    expect(granted).toEqual(['models']);
    for (const name of ['trainingFit', 'evaluateDetections']) {
      expect(['sensors', 'readings', 'anomalies'].filter((t) => tableReference(t).test(policiesOf(entryOf(name)))), name).toEqual([]);
    }
  });

  it('listing and reading episodes cannot write; a verdict can update an episode but not delete one', () => {
    for (const name of ['listAnomalies', 'getAnomaly']) expect(policiesOf(entryOf(name))).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
    expect(policiesOf(entryOf('reviewAnomaly'))).toMatch(/dynamodb:UpdateItem/);
  });

  it('serves GET /anomalies and GET /anomalies/{id} to telltale/read, and PATCH /anomalies/{id} to telltale/ingest', () => {
    for (const [routeKey, scope] of [
      ['GET /api/v1/anomalies', 'telltale/read'],
      ['GET /api/v1/anomalies/{id}', 'telltale/read'],
      ['PATCH /api/v1/anomalies/{id}', 'telltale/ingest'],
    ]) {
      apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'JWT', AuthorizationScopes: [scope] });
    }
  });
});

describe('the HTTP API', () => {
  const routes = httpFunctions();

  it('has exactly one route per http function of the catalog', () => {
    apiTemplate.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
  });

  it.each(routes.map(({ fn, route }) => [`${route.method} ${route.path}`, fn.name, route] as const))('%s (%s) is authorized as the catalog says', (routeKey, _name, route) => {
    if (route.scope === null) {
      apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'NONE', AuthorizationScopes: Match.absent() });
    } else {
      apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: Match.anyValue() },
        AuthorizationScopes: [route.scope],
      });
    }
  });

  it('leaves only health and the API document public', () => {
    const publicRoutes = Object.values(apiTemplate.findResources('AWS::ApiGatewayV2::Route', { Properties: { AuthorizationType: 'NONE' } })).map(
      (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    expect(publicRoutes.sort()).toEqual(['GET /api/v1/monitoring/health', 'GET /api/v1/openapi.json']);
  });

  it('checks Cognito access tokens of the app clients', () => {
    apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: Match.arrayWith([{ Ref: Match.stringLikeRegexp('authdemoClient') }, { Ref: Match.stringLikeRegexp('authoperatorsClient') }]),
        Issuer: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('https://cognito-idp\\.')])]) }),
      },
    });
  });

  it('throttles the stage and every route, and writes JSON access logs', () => {
    const routeSettings = Object.fromEntries(routes.map(({ route }) => [`${route.method} ${route.path}`, { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() }]));
    apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      RouteSettings: routeSettings,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.serializedJson(Match.objectLike({ requestId: '$context.requestId', status: '$context.status', latencyMs: '$context.responseLatency' })) },
    });
  });

  it('sends no CORS headers unless origins are configured', () => {
    apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
  });

  it('outputs the API URL', () => {
    apiTemplate.hasOutput('ApiUrl', {});
  });
});

describe('queue, event and task functions', () => {
  it('every event function has a rule on the bus for its detail types', () => {
    const eventFunctions = catalog.flatMap((f) => (f.trigger.kind === 'event' ? [{ f, trigger: f.trigger }] : []));
    const objectFunctions = catalog.filter((f) => f.trigger.kind === 'objectCreated');
    apiTemplate.resourceCountIs('AWS::Events::Rule', eventFunctions.length + objectFunctions.length);
    for (const { f, trigger } of eventFunctions) {
      apiTemplate.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: Match.anyValue(),
        EventPattern: Match.objectLike({ 'detail-type': [...trigger.detailTypes], ...(trigger.source ? { source: [trigger.source] } : {}) }),
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(api.functions.get(f.name)!), 'Arn'] } })],
      });
    }
  });

  it('every object-created function has a rule on the default bus for its bucket and key pattern, with a dead-letter queue', () => {
    for (const f of catalog) {
      if (f.trigger.kind !== 'objectCreated') continue;
      apiTemplate.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: 'default',
        EventPattern: Match.objectLike({ source: ['aws.s3'], 'detail-type': ['Object Created'], detail: Match.objectLike({ object: { key: [{ wildcard: f.trigger.keyPattern }] } }) }),
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(api.functions.get(f.name)!), 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
      });
    }
  });

  it('every function EventBridge invokes (asynchronously) sends its failed invocations to a queue with an alarm', () => {
    const invokedAsync = catalog.filter((f) => f.trigger.kind === 'event' || f.trigger.kind === 'objectCreated');
    expect(invokedAsync.length).toBeGreaterThan(0);
    const queues = apiTemplate.findResources('AWS::SQS::Queue');
    const failures = Object.keys(queues).find((id) => id.startsWith('AsyncInvokeFailures'))!;
    expect(failures).toBeDefined();
    const configs = apiTemplate.findResources('AWS::Lambda::EventInvokeConfig');
    expect(Object.keys(configs)).toHaveLength(invokedAsync.length);
    for (const f of invokedAsync) {
      apiTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalIdOf(api.functions.get(f.name)!) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failures, 'Arn'] } } },
      });
    }
    // The alarm on its first message is one of the operations alarms (a nested stack: the queue's name comes in as a parameter).
    const operations = Template.fromStack(api.operations);
    const parameter = Object.entries(apiTemplate.toJSON().Resources[logicalIdOf(api.operations)].Properties.Parameters as Record<string, unknown>).find(
      ([, value]) => JSON.stringify(value) === JSON.stringify({ 'Fn::GetAtt': [failures, 'QueueName'] }),
    )![0];
    operations.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { Ref: parameter } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('every workflow is a traced, logged state machine whose tasks invoke the catalog functions, and its starters may start it', () => {
    for (const [name, saga] of Object.entries(workflows)) {
      const machine = api.stateMachines[name as keyof typeof workflows];
      const props = apiTemplate.toJSON().Resources[logicalIdOf(machine)].Properties;
      expect(props.TracingConfiguration).toEqual({ Enabled: true });
      expect(props.LoggingConfiguration.Level).toBe('ALL');
      expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(sagaFunctionNames(saga).sort());
      const starters = catalog.filter((f) => f.binds.stateMachines && name in f.binds.stateMachines);
      for (const f of starters) {
        const env = apiTemplate.toJSON().Resources[logicalIdOf(api.functions.get(f.name)!)].Properties.Environment.Variables;
        expect(env[envNameOf('STATE_MACHINE', name)]).toEqual({ Ref: logicalIdOf(machine) });
      }
    }
  });

  it('the dataset pipeline splits large files with a Distributed Map whose role may start, describe and stop only its own child executions', () => {
    const machine = api.stateMachines.datasetPipeline;
    const resources = apiTemplate.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const props = resources[logicalIdOf(machine)].Properties as { StateMachineName: string; DefinitionString: unknown };
    const definition = JSON.stringify(props.DefinitionString);
    expect(definition).toContain('\\"Mode\\":\\"DISTRIBUTED\\"');
    expect(definition).toContain('$.steps.Plan.output.chunks');
    const name = props.StateMachineName;
    expect(name).toMatch(/datasetPipeline$/);
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(logicalIdOf(machine.role)))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    const resourceOf = (action: string) => JSON.stringify(statements.find((st) => [st.Action].flat().includes(action))?.Resource);
    expect(resourceOf('states:StartExecution')).toContain(`:stateMachine:${name}`);
    expect(resourceOf('states:DescribeExecution')).toContain(`:execution:${name}/*`);
    expect(resourceOf('states:StopExecution')).toContain(`:execution:${name}/*`);
    // The training pipeline has no map: no fixed name, no such grants.
    const training = resources[logicalIdOf(api.stateMachines.trainingPipeline)].Properties;
    expect(training.StateMachineName).toBeUndefined();
  });

  it('task functions are created with no trigger', () => {
    for (const f of catalog.filter((c) => c.trigger.kind === 'task')) expect(api.functions.has(f.name)).toBe(true);
  });

  it('every queue function reads its queue with partial batch failures, the declared batch size and window', () => {
    const queueFunctions = catalog.flatMap((f) => (f.trigger.kind === 'queue' ? [{ f, trigger: f.trigger }] : []));
    apiTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', queueFunctions.length);
    for (const { f, trigger } of queueFunctions) {
      // Lambda refuses a FIFO event source with more than 10 messages a batch or any batching window.
      if (queues[trigger.queue].fifo) expect({ name: f.name, batchSize: trigger.batchSize <= 10, window: trigger.maxBatchingWindowSeconds }).toEqual({ name: f.name, batchSize: true, window: 0 });
      apiTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalIdOf(api.functions.get(f.name)!) },
        BatchSize: trigger.batchSize,
        MaximumBatchingWindowInSeconds: trigger.maxBatchingWindowSeconds > 0 ? trigger.maxBatchingWindowSeconds : Match.absent(),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });
});

describe('alert rules: schedule, delivery queue and grants', () => {
  const entryOf = (name: string) => deployed.find((d) => d.declaration.name === name)!;
  const actionsOf = (name: string, service: RegExp) => statementsOf(name).flatMap((st) => [st.Action].flat().filter((a) => service.test(a)));
  const resourcesOf = (name: string, service: RegExp) => JSON.stringify(statementsOf(name).filter((st) => [st.Action].flat().some((a) => service.test(a))).map((st) => st.Resource));

  it('runs every schedule function from an EventBridge Scheduler schedule, with the scheduled time, retries and a dead-letter queue', () => {
    const scheduled = catalog.flatMap((f) => (f.trigger.kind === 'schedule' ? [{ f, trigger: f.trigger }] : []));
    expect(scheduled.map(({ f }) => f.name)).toEqual(['evaluateScheduledAlerts', 'checkModelDrift']);
    apiTemplate.resourceCountIs('AWS::Scheduler::Schedule', scheduled.length);
    for (const { f, trigger } of scheduled) {
      apiTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: `rate(${trigger.everyMinutes} minute${trigger.everyMinutes === 1 ? '' : 's'})`,
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalIdOf(api.functions.get(f.name)!), 'Arn'] },
          Input: Match.stringLikeRegexp('"time":"<aws.scheduler.scheduled-time>"'),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
          DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }),
        }),
      });
    }
  });

  it('declares the alert delivery queue with a dead-letter queue after six receives, read by deliverAlerts with partial batch failures', () => {
    dataTemplate.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: queues.alertDeliveries.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 6 },
    });
    const deliverer = entryOf('deliverAlerts');
    const mappings = Object.values(apiTemplate.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalIdOf(deliverer.fn) } } })) as { Properties: { EventSourceArn: unknown; FunctionResponseTypes: string[] } }[];
    expect(mappings).toHaveLength(1);
    expect(JSON.stringify(mappings[0].Properties.EventSourceArn)).toMatch(/alertDeliveries/i);
    expect(mappings[0].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    // The backoff sets the visibility of its own messages.
    expect(policiesOf(deliverer)).toMatch(/sqs:ChangeMessageVisibility/);
  });

  it('grants the stage\'s alert secrets and tenant topics by name pattern: writers subscribe and store secrets, the deliverer reads and publishes', () => {
    for (const name of ['createAlertRule', 'updateAlertRule']) {
      expect(actionsOf(name, /^(ssm|sns):/).sort()).toEqual(['sns:CreateTopic', 'sns:Subscribe', 'ssm:DeleteParameter', 'ssm:PutParameter']);
    }
    expect(actionsOf('deleteAlertRule', /^(ssm|sns):/).sort()).toEqual(['ssm:DeleteParameter', 'ssm:PutParameter']);
    expect(actionsOf('deliverAlerts', /^(ssm|sns):/).sort()).toEqual(['sns:CreateTopic', 'sns:Publish', 'ssm:GetParameter']);
    expect(resourcesOf('deliverAlerts', /^ssm:/)).toContain(':parameter/telltale/dev/alert-secrets/*');
    expect(resourcesOf('deliverAlerts', /^sns:/)).toContain(':telltale-dev-alerts-*');
    for (const name of ['listAlertRules', 'getAlertRule', 'listAlertEvents', 'evaluateAlerts', 'evaluateScheduledAlerts']) expect(actionsOf(name, /^(ssm|sns):/)).toEqual([]);
    for (const name of ['listAlertRules', 'getAlertRule', 'listAlertEvents']) expect(actionsOf(name, /^dynamodb:(Put|Update|Delete)/)).toEqual([]);
  });

  it('the drift check runs every 5 minutes, scans only the registry (the one Scan of the stacks), reads readings, sensors and manifests, and writes only its drift states', () => {
    const statements = statementsOf('checkModelDrift');
    const actionsOn = (table: string) => statements.filter((st) => tableReference(table).test(JSON.stringify(st.Resource))).flatMap((st) => [st.Action].flat()).sort();
    const reads = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query'];
    expect(actionsOn('registry')).toEqual([...reads, 'dynamodb:Scan'].sort());
    for (const table of ['readings', 'sensors']) expect(actionsOn(table), table).toEqual(reads);
    expect(actionsOn('monitoring')).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    for (const table of ['models', 'anomalies', 'datasets']) expect(actionsOn(table), table).toEqual([]);
    expect(s3GrantsOf('checkModelDrift')).toEqual(['s3:GetObject models:models/*/*/*/manifest.json', 's3:GetObjectVersion models:models/*/*/*/manifest.json', 's3:ListBucket models'].sort());
    expect(actionsOf('checkModelDrift', /^(events|sqs|ssm|sns):/)).toEqual(['events:PutEvents']);
    expect(deployed.filter((d) => policiesOf(d).includes('dynamodb:Scan')).map((d) => d.declaration.name)).toEqual(['checkModelDrift']);
    const entry = catalog.find((f) => f.name === 'checkModelDrift')!;
    expect(entry).toMatchObject({ context: 'monitoring', trigger: { kind: 'schedule', everyMinutes: 5 } });
    apiTemplate.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)', Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(api.functions.get('checkModelDrift')!), 'Arn'] } }) });
  });

  it('serves the alert routes: reads to telltale/read, changes to telltale/admin', () => {
    const routes: [string, string][] = [
      ['GET /api/v1/monitoring/alerts', 'telltale/read'],
      ['GET /api/v1/monitoring/alerts/{id}', 'telltale/read'],
      ['GET /api/v1/monitoring/alerts/{id}/events', 'telltale/read'],
      ['POST /api/v1/monitoring/alerts', 'telltale/admin'],
      ['PATCH /api/v1/monitoring/alerts/{id}', 'telltale/admin'],
      ['DELETE /api/v1/monitoring/alerts/{id}', 'telltale/admin'],
    ];
    for (const [routeKey, scope] of routes) apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationScopes: [scope] });
  });
});
