import { Aws, CfnOutput, Duration, Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  LambdaVersion,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  StringAttribute,
  UserPool,
  UserPoolOperation,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { AttributeType, BillingMode, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership, type CorsRule, type IBucket, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { catalog } from '../shared/catalog.js';
import { clientTenantKey } from '../shared/gateway/tenantClaim.js';
import { scopeDescriptions, type Scope } from '../shared/gateway/scopes.js';
import { buckets, bus as busDeclaration, eventSource, queues, tables, type BucketDeclaration, type BucketName, type QueueName, type TableName } from '../shared/platform/resources.js';
import { functionSettings, removalPolicyOf, type TelltaleConfig } from './config.js';
import { createReadingsTimestream } from './readingsTimestream.js';
import { TelltaleFunction, type TelltaleResources } from './constructs/telltaleFunction.js';
import { acknowledgeCustomResourceProviders } from './nag.js';
import { publishResources, type Auth } from './resourceParameters.js';

export interface DataStackProps extends StackProps {
  config: TelltaleConfig;
}

export type { Auth } from './resourceParameters.js';

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
/** Scratch objects a run left behind (stopped by hand, timed out) expire; their old versions go with the rule above. */
const scratchRules = (declaration: BucketDeclaration): LifecycleRule[] =>
  declaration.scratch ? [{ id: 'ExpireScratch', prefix: declaration.scratch.prefix, expiration: Duration.days(declaration.scratch.expireAfterDays) }] : [];
/**
 * Browsers PUT dataset files straight to the presigned URL, so the datasets bucket (the only one
 * clients write to) answers their preflight for the API's origins; no origins, no CORS.
 */
const uploadCors = (name: BucketName, origins: readonly string[]): CorsRule[] | undefined =>
  name === 'datasets' && origins.length > 0
    ? [{ allowedOrigins: [...origins], allowedMethods: [HttpMethods.PUT], allowedHeaders: ['content-type', 'x-amz-*'], exposedHeaders: ['ETag', 'x-amz-version-id'], maxAge: 3600 }]
    : undefined;
const mapOf = <K extends string, V>(names: readonly K[], make: (name: K) => V) => Object.fromEntries(names.map((n) => [n, make(n)])) as Record<K, V>;

/**
 * The stateful stack: every table, bucket and queue of shared/platform/resources.ts, the event bus,
 * and the Cognito user pool that issues tokens. The stateless stacks receive them through props.
 */
export class DataStack extends Stack {
  readonly resources: TelltaleResources;
  /** Null on LocalStack, whose Community edition has no Cognito user pools. */
  readonly auth: Auth | null;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);

    const tableOf = (name: TableName): ITable => {
      const d = tables[name];
      const table = new Table(this, `${pascal(name)}Table`, {
        partitionKey: { name: d.partitionKey, type: AttributeType.STRING },
        sortKey: 'sortKey' in d ? { name: d.sortKey, type: AttributeType.STRING } : undefined,
        timeToLiveAttribute: 'timeToLiveAttribute' in d ? d.timeToLiveAttribute : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // AWS-managed key: encrypted at rest and auditable in CloudTrail, with no monthly key fee.
        encryption: TableEncryption.AWS_MANAGED,
        deletionProtection: config.prod,
        removalPolicy,
      });
      for (const index of d.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
        });
      }
      return table;
    };

    const accessLogs = new Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(config.prod ? 365 : 30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy,
      autoDeleteObjects: !config.prod,
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the server access log bucket; logging it into itself would loop.' });

    const bucketOf = (name: BucketName): IBucket =>
      new Bucket(this, `${pascal(name)}Bucket`, {
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        encryption: BucketEncryption.S3_MANAGED,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${name}/`,
        eventBridgeEnabled: buckets[name].eventBridge,
        cors: uploadCors(name, config.corsOrigins),
        lifecycleRules: [
          { abortIncompleteMultipartUploadAfter: Duration.days(1) },
          // Versioning protects against a bad overwrite; old versions need not be kept for ever.
          { noncurrentVersionExpiration: Duration.days(config.prod ? 90 : 7) },
          ...scratchRules(buckets[name]),
        ],
        removalPolicy,
        autoDeleteObjects: !config.prod,
      });

    const deadLetterQueues = {} as Record<QueueName, IQueue>;
    const queueOf = (name: QueueName): IQueue => {
      const d = queues[name];
      // A FIFO queue's dead-letter queue must be FIFO too. High-throughput mode: deduplication and the
      // throughput limit per message group (a sensor), not per queue; senders give the deduplication id.
      const fifo = d.fifo ? { fifo: true, contentBasedDeduplication: false, deduplicationScope: DeduplicationScope.MESSAGE_GROUP, fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID } : {};
      const deadLetters = new Queue(this, `${pascal(name)}DeadLetterQueue`, {
        ...fifo,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
      });
      deadLetterQueues[name] = deadLetters;
      return new Queue(this, `${pascal(name)}Queue`, {
        ...fifo,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(d.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: d.maxReceiveCount },
        removalPolicy,
      });
    };

    const eventBus = new EventBus(this, `${pascal(busDeclaration.name)}Bus`, { description: 'Telltale domain events' });
    eventBus.archive('Archive', {
      description: 'Telltale domain events, for replay',
      eventPattern: { source: [eventSource] },
      retention: Duration.days(config.prod ? 90 : 7),
    });
    createReadingsTimestream(this, config);

    this.resources = {
      tables: mapOf(Object.keys(tables) as TableName[], tableOf),
      buckets: mapOf(Object.keys(buckets) as BucketName[], bucketOf),
      queues: mapOf(Object.keys(queues) as QueueName[], queueOf),
      bus: eventBus,
    };

    this.auth = config.localstack ? null : this.userPool(config);
    publishResources(this, config.stage, this.resources, this.auth, deadLetterQueues);
    acknowledgeCustomResourceProviders(this);
  }

  private userPool(config: TelltaleConfig): Auth {
    const userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      // Essentials: access-token customisation (the V3_0 trigger below) needs it, and its free tier
      // covers 10,000 monthly users. Threat protection (advanced security) needs the paid Plus plan.
      featurePlan: FeaturePlan.ESSENTIALS,
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Immutable: set when an operator creates the user, never changed by the user.
      customAttributes: { tenant: new StringAttribute({ minLen: 2, maxLen: 63, mutable: false }) },
      deletionProtection: config.prod,
      removalPolicy: removalPolicyOf(config),
    });
    Validations.of(userPool).acknowledge({
      id: 'AwsSolutions-COG3',
      reason: 'Threat protection needs the paid Plus plan; users are admin-created, MFA is required and machine clients use secrets.',
    });
    Validations.of(userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason: 'Essentials is enough for access-token customisation; Plus costs per user and adds only threat protection (see COG3).',
    });

    const scopes = (Object.entries(scopeDescriptions) as [Scope, string][]).map(
      ([scope, description]) => new ResourceServerScope({ scopeName: scope.slice('telltale/'.length), scopeDescription: description }),
    );
    const server = new UserPoolResourceServer(this, 'ResourceServer', { userPool, identifier: 'telltale', userPoolResourceServerName: 'Telltale API', scopes });
    const oauthScopes = scopes.map((s) => OAuthScope.resourceServer(server, s));

    // Machine client of the demo/ops tenant; its tenant comes from the tenants table (seeded below).
    const demoClient = userPool.addClient('DemoClient', {
      generateSecret: true,
      authFlows: {},
      oAuth: { flows: { clientCredentials: true }, scopes: oauthScopes },
      accessTokenValidity: Duration.hours(1),
      enableTokenRevocation: true,
    });
    // People (operators, a future console): authorization code with PKCE; their tenant is custom:tenant.
    const operatorsClient = userPool.addClient('OperatorsClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: { flows: { authorizationCodeGrant: true }, scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, ...oauthScopes], callbackUrls: config.callbackUrls },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      enableTokenRevocation: true,
    });
    const domain = userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: config.authDomainPrefix ?? Fn.join('-', ['telltale', config.stage, Aws.ACCOUNT_ID]) },
    });

    // The tenant claim. Its function lives here, not in the API stack, or pool and function would depend on each other across stacks.
    const settings = functionSettings(config);
    for (const fn of catalog.filter((f) => f.trigger.kind === 'cognito')) {
      const trigger = new TelltaleFunction(this, pascal(fn.name), { ...settings, declaration: fn }).bind(fn.binds, this.resources);
      userPool.addTrigger(UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, trigger, LambdaVersion.V3_0);
    }

    const tenantsTable = this.resources.tables.tenants;
    const mapping = (action: 'putItem' | 'deleteItem') => {
      const key = clientTenantKey(demoClient.userPoolClientId);
      const Key = { pk: { S: key.pk }, sk: { S: key.sk } };
      return {
        service: 'DynamoDB',
        action,
        parameters: action === 'putItem' ? { TableName: tenantsTable.tableName, Item: { ...Key, tenant: { S: config.demoTenant } } } : { TableName: tenantsTable.tableName, Key },
        // The item's key is the client id, so the resource is too: were the tenant in it, changing
        // -c demoTenant would replace the resource, and CloudFormation's cleanup Delete of the old
        // one would remove the item the update just wrote.
        physicalResourceId: PhysicalResourceId.of(`client-tenant-${demoClient.userPoolClientId}`),
      };
    };
    new AwsCustomResource(this, 'DemoClientTenant', {
      onCreate: mapping('putItem'),
      onUpdate: mapping('putItem'),
      onDelete: mapping('deleteItem'),
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: [tenantsTable.tableArn] }),
      installLatestAwsSdk: false,
    });

    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'TokenUrl', { value: `${domain.baseUrl()}/oauth2/token`, description: 'OAuth2 token endpoint (client-credentials grant)' });
    new CfnOutput(this, 'DemoClientId', { value: demoClient.userPoolClientId, description: `Client-credentials app client of tenant ${config.demoTenant}` });
    return { userPool, clients: { demoClient, operatorsClient } };
  }
}
