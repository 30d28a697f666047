import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { catalog, httpFunctions, workflows } from '../../shared/catalog.js';
import { sagaFunctionNames } from '../../shared/platform/saga.js';
import { envNameOf } from '../../shared/platform/config.js';
import { tables } from '../../shared/platform/resources.js';
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
      const mentioned = new RegExp(`${pascal(name)}Table[0-9A-F]{8}`).test(policies);
      expect({ table: name, granted: mentioned, env: envNameOf('TABLE', name) in env.Properties.Environment.Variables }).toEqual({
        table: name,
        granted: bound.includes(name),
        env: bound.includes(name),
      });
    }
  });

  it("the sensor functions touch only the sensors context's tables (the scorer reads datasets too, to warm up), and the registry only the sensors table", () => {
    const tablesOf = (entry: (typeof deployed)[number]) => new Set([...policiesOf(entry).matchAll(/ExportsOutputFnGetAtt([A-Za-z]+)Table[0-9A-F]{8}Arn/g)].map((m) => m[1]));
    const sensorFunctions = deployed.filter((d) => d.declaration.context === 'sensors');
    const registry = ['registerSensor', 'listSensors', 'getSensor'];
    expect(sensorFunctions.map((d) => d.declaration.name)).toEqual(expect.arrayContaining(registry));
    for (const entry of sensorFunctions) {
      const allowed = ['Sensors', 'Readings', 'Anomalies', ...(entry.declaration.name === 'scoreReadings' ? ['Datasets'] : [])];
      expect([...tablesOf(entry)].filter((t) => !allowed.includes(t))).toEqual([]);
      if (registry.includes(entry.declaration.name)) expect(tablesOf(entry)).toEqual(new Set(['Sensors']));
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
    for (const name of ['listAnomalies', 'getAnomaly', 'reviewAnomaly']) expect(policiesOf(entryOf(name))).not.toMatch(/events:PutEvents|sqs:/);
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
        Audience: Match.arrayWith([{ 'Fn::ImportValue': Match.stringLikeRegexp('DemoClient') }, { 'Fn::ImportValue': Match.stringLikeRegexp('OperatorsClient') }]),
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
      apiTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalIdOf(api.functions.get(f.name)!) },
        BatchSize: trigger.batchSize,
        MaximumBatchingWindowInSeconds: trigger.maxBatchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });
});
