import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations, type CfnElement, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Access, Bindings, FunctionDeclaration } from '../../shared/catalog.js';
import { envNameOf } from '../../shared/platform/config.js';
import { bus as busDeclaration, tables, type BucketName, type QueueName, type TableName } from '../../shared/platform/resources.js';

/** The stateful resources a function can be bound to, as the data stack exposes them. */
export interface TelltaleResources {
  tables: Record<TableName, ITable>;
  buckets: Record<BucketName, IBucket>;
  queues: Record<QueueName, IQueue>;
  bus: IEventBus;
}

/** Settings every function of a deployment shares. */
export interface FunctionSettings {
  stage: string;
  serviceVersion: string;
  /** Name of the JWT claim that carries the tenant. */
  tenantClaim: string;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  /** Extra environment for every function (e.g. CORS_ORIGINS). */
  environment?: Record<string, string>;
}

export interface TelltaleFunctionProps extends FunctionSettings {
  declaration: FunctionDeclaration;
  /** Packages shipped as node_modules instead of bundled (native addons such as onnxruntime-node). */
  nodeModules?: string[];
}

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

const tableActions: Record<Access, readonly string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  readWrite: [],
};
tableActions.readWrite = [...new Set([...tableActions.read, ...tableActions.write])];

const objectActions: Record<Access, readonly string[]> = {
  read: ['s3:GetObject'],
  write: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
  readWrite: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
};

/**
 * The one construct for Telltale's functions: Node.js 24, an ESM bundle, source maps, active
 * tracing, its own log group, and `bind*()` helpers that add a resource's env var and the
 * least-privilege grant together, so a function can never see a name it may not use (or the reverse).
 */
export class TelltaleFunction extends NodejsFunction {
  readonly declaration: FunctionDeclaration;

  constructor(scope: Construct, id: string, props: TelltaleFunctionProps) {
    const { declaration: fn } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention, removalPolicy: props.removalPolicy });
    // Our own role instead of AWSLambdaBasicExecutionRole: it may write to its own log group only.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${fn.name}`,
    });
    super(scope, id, {
      entry: `${repositoryRoot}${fn.entry}`,
      handler: 'handler',
      projectRoot: repositoryRoot,
      depsLockFilePath: `${repositoryRoot}package-lock.json`,
      description: fn.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: fn.architecture === 'arm64' ? Architecture.ARM_64 : Architecture.X86_64,
      memorySize: fn.memoryMb,
      timeout: Duration.seconds(fn.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `telltale-${fn.context}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Telltale',
        SERVICE_VERSION: props.serviceVersion,
        STAGE: props.stage,
        TENANT_CLAIM: props.tenantClaim,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        // The Powertools tracer needs `require` inside an ESM bundle (TOOLCHAIN.md).
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The AWS SDK v3 comes with the runtime: smaller bundles, faster synth. onnxruntime-node is
        // a native addon of 288 MB (every platform); the models layer provides it (DESIGN.md section 1).
        externalModules: ['@aws-sdk/*', 'onnxruntime-node'],
        nodeModules: props.nodeModules,
        environment: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
        // Hash the sources instead of the bundle: when nothing changed, cdk.out already holds the
        // bundle and esbuild is not run again (each run costs a second or two through npx).
        assetHash: bundleHashOf(fn, props.nodeModules),
      },
    });
    this.declaration = fn;
    logGroup.grantWrite(role);
    // Lambda's X-Ray integration can only be granted on every resource.
    Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.' });
  }

  /** TABLE_<NAME> plus the item actions of `access` on the table and its declared indexes only. */
  bindTable(name: TableName, table: ITable, access: Access): this {
    this.addEnvironment(envNameOf('TABLE', name), table.tableName);
    const reads = access !== 'write';
    const indexes = reads ? tables[name].indexes.map((index) => `${table.tableArn}/index/${index.name}`) : [];
    this.addToRolePolicy(new PolicyStatement({ actions: [...tableActions[access]], resources: [table.tableArn, ...indexes] }));
    return this;
  }

  /** BUCKET_<NAME> plus object actions of `access` (and ListBucket to read, which HeadBucket needs too). */
  bindBucket(name: BucketName, bucket: IBucket, access: Access): this {
    this.addEnvironment(envNameOf('BUCKET', name), bucket.bucketName);
    this.addToRolePolicy(new PolicyStatement({ actions: [...objectActions[access]], resources: [bucket.arnForObjects('*')] }));
    if (access !== 'write') this.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    Validations.of(this.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${this.nagReferenceOf(bucket, bucket.bucketArn, 'Arn')}/*]`,
      reason: 'Object keys start with the tenant and are only known at run time; the grant stays on this one bucket.',
    });
    return this;
  }

  /** QUEUE_<NAME> plus SendMessage on that queue. */
  bindQueue(name: QueueName, queue: IQueue): this {
    this.addEnvironment(envNameOf('QUEUE', name), queue.queueUrl);
    queue.grantSendMessages(this);
    return this;
  }

  /** BUS_<NAME> plus PutEvents on that bus. */
  bindBus(bus: IEventBus): this {
    this.addEnvironment(envNameOf('BUS', busDeclaration.name), bus.eventBusName);
    bus.grantPutEventsTo(this);
    return this;
  }

  /**
   * How cdk-nag prints a reference to `resource`'s attribute in a finding id: `<LogicalId.Attr>` in
   * the same stack, the export name when the value crosses stacks (the export is the one CDK makes anyway).
   */
  private nagReferenceOf(resource: Construct, value: string, attribute: string): string {
    const producer = Stack.of(resource);
    const cfn = resource.node.defaultChild;
    if (!cfn) throw new Error(`${resource.node.path} has no CloudFormation resource`);
    if (producer === Stack.of(this)) return `<${producer.getLogicalId(cfn as CfnElement)}.${attribute}>`;
    const imported = Stack.of(this).resolve(producer.exportValue(value)) as { 'Fn::ImportValue': string };
    return imported['Fn::ImportValue'];
  }

  /** STATE_MACHINE_<NAME> plus StartExecution on that state machine. */
  bindStateMachine(name: string, stateMachine: IStateMachine): this {
    this.addEnvironment(envNameOf('STATE_MACHINE', name), stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(this);
    return this;
  }

  /** Walks a catalog entry's bindings (state machines come later: they are built from these functions). */
  bind(bindings: Bindings, resources: TelltaleResources): this {
    for (const [name, access] of entries(bindings.tables)) this.bindTable(name, resources.tables[name], access);
    for (const [name, access] of entries(bindings.buckets)) this.bindBucket(name, resources.buckets[name], access);
    for (const [name] of entries(bindings.queues)) this.bindQueue(name, resources.queues[name]);
    if (bindings.bus) this.bindBus(resources.bus);
    return this;
  }
}

let sourcesHash: string | undefined;
/** One hash of everything a bundle is made from: our sources, the lock file, the compiler settings. */
function hashSources(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(`${repositoryRoot}${dir}`, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs|json)$/.test(entry.name)) hash.update(`${path}\0`).update(readFileSync(`${repositoryRoot}${path}`)).update('\0');
    }
  };
  for (const dir of ['functions', 'shared']) walk(dir);
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) hash.update(`${file}\0`).update(readFileSync(`${repositoryRoot}${file}`));
  return hash.digest('hex');
}

const bundleHashOf = (fn: FunctionDeclaration, nodeModules: readonly string[] | undefined): string => {
  sourcesHash ??= hashSources();
  return createHash('sha256').update(JSON.stringify([bundleFormatVersion, sourcesHash, fn.entry, fn.architecture, nodeModules ?? []])).digest('hex');
};
/** Bump when the bundling options above change, so old bundles in cdk.out are not reused. */
const bundleFormatVersion = 1;

const entries = <K extends string, V>(record: Partial<Record<K, V>> | undefined): [K, V][] =>
  Object.entries(record ?? {}).filter((e): e is [K, V] => e[1] !== undefined) as [K, V][];

