import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { Construct } from 'constructs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Access, Bindings, FunctionDeclaration, ObjectAccess, ObjectGrant, Probe, ScanAll, WorkflowName } from '../../shared/catalog.js';
import { bindingEnvironment, settingsEnvironment, type EnvironmentSettings, type PhysicalNames } from '../../shared/platform/functionEnvironment.js';
import { tables, type BucketName, type QueueName, type TableName } from '../../shared/platform/resources.js';

/** The stateful resources a function can be bound to, as the data stack exposes them. */
export interface TelltaleResources {
  tables: Record<TableName, ITable>;
  buckets: Record<BucketName, IBucket>;
  queues: Record<QueueName, IQueue>;
  bus: IEventBus;
}

/** Settings every function of a deployment shares. */
export interface FunctionSettings extends EnvironmentSettings {
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

export interface TelltaleFunctionProps extends FunctionSettings {
  declaration: FunctionDeclaration;
  /** Packages shipped as node_modules instead of bundled (native addons such as onnxruntime-node). */
  nodeModules?: string[];
}

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

const tableActions: Record<Access | ScanAll, readonly string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  readWrite: [],
  scanAll: [],
};
tableActions.readWrite = [...new Set([...tableActions.read, ...tableActions.write])];
tableActions.scanAll = [...tableActions.read, 'dynamodb:Scan'];

const objectActions: Record<ObjectAccess, readonly string[]> = {
  // Versions too: a pipeline run reads the object version its event named.
  read: ['s3:GetObject', 's3:GetObjectVersion'],
  write: ['s3:PutObject', 's3:AbortMultipartUpload'],
  delete: ['s3:DeleteObject'],
  purge: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
};
/** An Access on a whole bucket, as object grants on every key (write keeps its old meaning: put and delete). */
const wholeBucket: Record<Access, readonly ObjectGrant[]> = {
  read: [{ access: ['read'], prefixes: ['*'] }],
  write: [{ access: ['write', 'delete'], prefixes: ['*'] }],
  readWrite: [{ access: ['read', 'write', 'delete'], prefixes: ['*'] }],
};

/**
 * The one construct for Telltale's functions: Node.js 24, an ESM bundle, source maps, active
 * tracing, its own log group, and `bind*()` helpers that add a resource's env var and the
 * least-privilege grant together, so a function can never see a name it may not use (or the reverse).
 */
export class TelltaleFunction extends NodejsFunction {
  readonly declaration: FunctionDeclaration;
  /** The stage: resources created at run time (alert topics and secrets) are named after it. */
  private readonly environmentStage: string;

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
      // Active below, with X-Ray's grant in a policy of its own (see tracingPolicy).
      tracing: Tracing.DISABLED,
      logGroup,
      role,
      // The same declaration gives the local cloud's functions their environment (bindings: bind*() below).
      environment: { NODE_OPTIONS: '--enable-source-maps', ...settingsEnvironment(fn, props) },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        // The Powertools tracer needs `require` inside an ESM bundle (TOOLCHAIN.md).
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Errors only: esbuild's per-bundle summary is 240 lines of `cdk synth` output.
        logLevel: LogLevel.ERROR,
        // The AWS SDK clients are bundled, at the versions the lock file pins and the tests run, not
        // whichever the nodejs24.x runtime ships. onnxruntime-node is a native addon of 288 MB (every
        // platform): the models layer provides it (DESIGN.md section 1), or nodeModules on LocalStack.
        externalModules: ['onnxruntime-node'],
        nodeModules: props.nodeModules,
        environment: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // onnxruntime-node installed as a node module carries every platform's binaries (292 MB,
          // over Lambda's 250 MB unzipped): keep linux/x64, as the models layer does (layers/build.ts).
          afterBundling: (_input, output) => (props.nodeModules?.includes('onnxruntime-node') ? [pruneOnnxRuntime(`${output}/node_modules/onnxruntime-node`)] : []),
        },
        // Hash the sources instead of the bundle: when nothing changed, cdk.out already holds the
        // bundle and esbuild is not run again (each run costs a second or two through npx).
        assetHash: bundleHashOf(fn, props.nodeModules),
      },
    });
    this.declaration = fn;
    this.environmentStage = props.stage;
    logGroup.grantWrite(role);
    (this.node.defaultChild as CfnFunction).tracingConfig = { mode: Tracing.ACTIVE };
    this.node.addDependency(tracingPolicy(scope, id, role));
  }

  /** TABLE_<NAME> plus the item actions of `access` on the table and its declared indexes only; a probe may only describe it. */
  bindTable(name: TableName, table: ITable, access: Access | Probe | ScanAll): this {
    this.addBindingEnvironment({ tables: { [name]: access } }, { table: () => table.tableName });
    if (access === 'probe') {
      this.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [table.tableArn] }));
      return this;
    }
    const reads = access !== 'write';
    const indexes = reads ? tables[name].indexes.map((index) => `${table.tableArn}/index/${index.name}`) : [];
    this.addToRolePolicy(new PolicyStatement({ actions: [...tableActions[access]], resources: [table.tableArn, ...indexes] }));
    return this;
  }

  /**
   * BUCKET_<NAME> plus, per grant, its object actions on its key patterns only. ListBucket comes with
   * reading (a missing key is then a 404, not a 403) and deleting (a prefix is listed to be removed);
   * a probe gets ListBucket alone, which is what HeadBucket needs.
   */
  bindBucket(name: BucketName, bucket: IBucket, access: Access | Probe | readonly ObjectGrant[]): this {
    this.addBindingEnvironment({ buckets: { [name]: access } }, { bucket: () => bucket.bucketName });
    const grants = access === 'probe' ? [] : typeof access === 'string' ? wholeBucket[access] : access;
    for (const grant of grants) {
      const resources = grant.prefixes.map((prefix) => bucket.arnForObjects(prefix));
      this.addToRolePolicy(new PolicyStatement({ actions: grant.access.flatMap((a) => objectActions[a]), resources }));
      for (const resource of resources.filter((_, i) => grant.prefixes[i].includes('*'))) {
        Validations.of(this.role!).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${this.nagResourceOf(resource)}]`,
          reason: 'Object keys hold the tenant and ids known only at run time; the grant stays on this key pattern of this one bucket.',
        });
      }
    }
    const lists = access === 'probe' || grants.some((g) => g.access.includes('read') || g.access.includes('delete') || g.access.includes('purge'));
    const purges = grants.some((g) => g.access.includes('purge'));
    if (lists) this.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket', ...(purges ? ['s3:ListBucketVersions'] : [])], resources: [bucket.bucketArn] }));
    return this;
  }

  /** QUEUE_<NAME> plus SendMessage on that queue. */
  bindQueue(name: QueueName, queue: IQueue): this {
    this.addBindingEnvironment({ queues: { [name]: 'send' } }, { queue: () => queue.queueUrl });
    queue.grantSendMessages(this);
    return this;
  }

  /** BUS_<NAME> plus PutEvents on that bus. */
  bindBus(bus: IEventBus): this {
    this.addBindingEnvironment({ bus: true }, { bus: () => bus.eventBusName });
    bus.grantPutEventsTo(this);
    return this;
  }

  /** A resource as cdk-nag prints it in a finding id, with cdk-nag's own function, so an acknowledgment names exactly that finding. */
  private nagResourceOf(value: string): string {
    return flattenCfnReference(Stack.of(this).resolve(value));
  }

  /** STATE_MACHINE_<NAME> plus StartExecution on that state machine. */
  bindStateMachine(name: WorkflowName, stateMachine: IStateMachine): this {
    this.addBindingEnvironment({ stateMachines: { [name]: 'start' } }, { stateMachine: () => stateMachine.stateMachineArn });
    stateMachine.grantStartExecution(this);
    return this;
  }

  /** The variables that name a bound resource, from the declaration the local cloud uses too. */
  private addBindingEnvironment(binds: Bindings, names: Partial<PhysicalNames>): void {
    for (const [key, value] of Object.entries(bindingEnvironment(binds, names))) this.addEnvironment(key, value);
  }

  /** Walks a catalog entry's bindings (state machines come later: they are built from these functions). */
  bind(bindings: Bindings, resources: TelltaleResources): this {
    for (const [name, access] of entries(bindings.tables)) this.bindTable(name, resources.tables[name], access);
    for (const [name, access] of entries(bindings.buckets)) this.bindBucket(name, resources.buckets[name], access);
    for (const [name] of entries(bindings.queues)) this.bindQueue(name, resources.queues[name]);
    if (bindings.bus) this.bindBus(resources.bus);
    if (bindings.alertSecrets || bindings.alertTopics) this.bindAlerts(bindings.alertSecrets, bindings.alertTopics);
    return this;
  }

  /**
   * The stage's alert secrets (SSM parameters under /telltale/<stage>/alert-secrets/) and the tenants'
   * alert topics (telltale-<stage>-alerts-<tenant>), both created at run time: grants on those name
   * patterns only. SecureString values use the aws/ssm key, which SSM uses on the caller's behalf.
   */
  bindAlerts(secrets: Bindings['alertSecrets'], topics: Bindings['alertTopics']): this {
    const stack = Stack.of(this);
    const stage = this.environmentStage;
    const acknowledge = (resource: string, reason: string) => Validations.of(this.role!).acknowledge({ id: `AwsSolutions-IAM5[Resource::${this.nagResourceOf(resource)}]`, reason });
    if (secrets) {
      const parameters = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `telltale/${stage}/alert-secrets/*` });
      this.addToRolePolicy(new PolicyStatement({ actions: secrets === 'manage' ? ['ssm:PutParameter', 'ssm:DeleteParameter'] : ['ssm:GetParameter'], resources: [parameters] }));
      acknowledge(parameters, 'One SecureString parameter per webhook secret, named by tenant and id at run time, under the stage\'s alert-secrets path only.');
    }
    if (topics) {
      const tenantTopics = stack.formatArn({ service: 'sns', resource: `telltale-${stage}-alerts-*`, arnFormat: ArnFormat.NO_RESOURCE_NAME });
      this.addToRolePolicy(new PolicyStatement({ actions: ['sns:CreateTopic', topics === 'subscribe' ? 'sns:Subscribe' : 'sns:Publish'], resources: [tenantTopics] }));
      acknowledge(tenantTopics, 'One SNS topic per tenant, created on first use: the grant stays on the stage\'s alert topic names.');
    }
    return this;
  }
}

/**
 * X-Ray's grant in a policy of its own: its actions support no resource-level permissions, and
 * acknowledging `Resource::*` on this policy alone leaves a wildcard anywhere else in the role an
 * error, where an acknowledgment on the role would cover it silently.
 */
function tracingPolicy(scope: Construct, id: string, role: Role): Policy {
  const policy = new Policy(scope, `${id}Tracing`, {
    roles: [role],
    statements: [new PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] })],
  });
  Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.' });
  return policy;
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
const bundleFormatVersion = 2;

/** A shell command that leaves only the linux/x64 binaries under onnxruntime-node's bin/napi-v<N>/. */
const pruneOnnxRuntime = (dir: string): string =>
  `find '${dir}/bin' -mindepth 2 -maxdepth 3 -type d ! -path '*/linux' ! -path '*/linux/x64' -prune -exec rm -rf {} +`;

const entries = <K extends string, V>(record: Partial<Record<K, V>> | undefined): [K, V][] =>
  Object.entries(record ?? {}).filter((e): e is [K, V] => e[1] !== undefined) as [K, V][];

