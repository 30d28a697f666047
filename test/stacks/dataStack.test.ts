import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { scopes } from '../../shared/gateway/scopes.js';
import { buckets, queues, tables } from '../../shared/platform/resources.js';
import { buildTelltale } from './telltaleApp.js';

const built = buildTelltale();
const { dataTemplate } = built;
afterAll(() => built.cleanup());

describe('tables', () => {
  it('one per declaration', () => {
    dataTemplate.resourceCountIs('AWS::DynamoDB::Table', Object.keys(tables).length);
  });

  it.each(Object.values(tables).map((t) => [t.name, t] as const))('%s has the declared keys, indexes and TTL, PITR, encryption, on-demand billing', (_name, t) => {
    const keySchema = [{ AttributeName: t.partitionKey, KeyType: 'HASH' }, ...('sortKey' in t ? [{ AttributeName: t.sortKey, KeyType: 'RANGE' }] : [])];
    dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: keySchema,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: t.indexes.length === 0 ? Match.absent() : t.indexes.map((i) => Match.objectLike({ IndexName: i.name })),
      TimeToLiveSpecification: 'timeToLiveAttribute' in t ? { AttributeName: t.timeToLiveAttribute, Enabled: true } : Match.absent(),
    });
  });

  it('are deleted with a dev stack', () => {
    for (const table of Object.values(dataTemplate.findResources('AWS::DynamoDB::Table'))) expect(table.DeletionPolicy).toBe('Delete');
  });
});

describe('buckets', () => {
  it('every bucket blocks public access, is encrypted, and denies requests without TLS', () => {
    const all = dataTemplate.findResources('AWS::S3::Bucket');
    expect(Object.keys(all)).toHaveLength(Object.keys(buckets).length + 1); // + the access log bucket
    for (const [id, bucket] of Object.entries(all)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      dataTemplate.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('data buckets are versioned, log their access, and abort incomplete uploads', () => {
    const dataBuckets = dataTemplate.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } });
    expect(Object.keys(dataBuckets)).toHaveLength(Object.keys(buckets).length);
    for (const bucket of Object.values(dataBuckets)) {
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(expect.arrayContaining([expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })]));
    }
  });

  it('expires the scratch prefix of the datasets bucket (chunks of a run stopped by hand), and nothing else', () => {
    const rules = Object.values(dataTemplate.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } })).flatMap(
      (b) => b.Properties.LifecycleConfiguration.Rules as { Prefix?: string; ExpirationInDays?: number }[],
    );
    expect(rules.filter((r) => r.ExpirationInDays !== undefined)).toEqual([expect.objectContaining({ Prefix: 'work/', ExpirationInDays: 7, Status: 'Enabled' })]);
  });

  it('sends object events to EventBridge only where declared', () => {
    const wanted = Object.values(buckets).filter((b) => b.eventBridge).length;
    dataTemplate.resourceCountIs('Custom::S3BucketNotifications', wanted);
    dataTemplate.hasResourceProperties('Custom::S3BucketNotifications', { NotificationConfiguration: { EventBridgeConfiguration: {} } });
  });
});

describe('browser uploads', () => {
  it('the datasets bucket answers the preflight of a PUT from the configured origins, and no bucket has CORS without origins; upload limits reach the functions', () => {
    expect(Object.values(dataTemplate.findResources('AWS::S3::Bucket', { Properties: { CorsConfiguration: Match.anyValue() } }))).toHaveLength(0);
    const withOrigins = buildTelltale({ corsOrigins: 'https://console.example.com,https://ops.example.com', datasetMaxUploadMb: 100, datasetTenantMaxUploadBytes: 'acme=1000' });
    try {
      const cors = Object.values(withOrigins.dataTemplate.findResources('AWS::S3::Bucket', { Properties: { CorsConfiguration: Match.anyValue() } }));
      expect(cors).toHaveLength(1);
      expect(cors[0].Properties.LoggingConfiguration.LogFilePrefix).toBe('datasets/');
      expect(cors[0].Properties.CorsConfiguration.CorsRules).toEqual([
        expect.objectContaining({ AllowedOrigins: ['https://console.example.com', 'https://ops.example.com'], AllowedMethods: ['PUT'], AllowedHeaders: expect.arrayContaining(['content-type']) }),
      ]);
      // The upload limits of the deploy options reach the functions that sign upload URLs.
      withOrigins.apiTemplate.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('fresh upload URL'),
        Environment: { Variables: Match.objectLike({ DATASET_MAX_UPLOAD_BYTES: String(100 * 1024 * 1024), DATASET_TENANT_MAX_UPLOAD_BYTES: 'acme=1000' }) },
      });
    } finally {
      withOrigins.cleanup();
    }
  });
});

describe('queues and the bus', () => {
  it.each(Object.values(queues).map((q) => [q.name, q] as const))('%s has a dead-letter queue after its max receive count, SQS-managed encryption', (_name, q) => {
    dataTemplate.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: q.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] }, maxReceiveCount: q.maxReceiveCount },
      SqsManagedSseEnabled: true,
    });
  });

  it('the FIFO queues and their dead-letter queues are FIFO in high-throughput mode, with explicit deduplication ids', () => {
      const fifoSettings = { FifoQueue: true, ContentBasedDeduplication: false, DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' };
      const fifoQueues = Object.values(dataTemplate.findResources('AWS::SQS::Queue', { Properties: fifoSettings })) as { Properties: { RedrivePolicy?: unknown } }[];
      const sources = fifoQueues.filter((q) => q.Properties.RedrivePolicy);
      const deadLetters = fifoQueues.filter((q) => !q.Properties.RedrivePolicy);
      expect(sources).toHaveLength(Object.values(queues).filter((q) => q.fifo).length);
      expect(deadLetters).toHaveLength(sources.length);
  });

  it('every queue, dead letters included, denies requests without TLS', () => {
    const all = Object.keys(dataTemplate.findResources('AWS::SQS::Queue'));
    expect(all).toHaveLength(Object.keys(queues).length * 2);
    for (const id of all) {
      dataTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('archives the domain events', () => {
    dataTemplate.resourceCountIs('AWS::Events::EventBus', 1);
    dataTemplate.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: ['telltale'] }, RetentionDays: 7 });
  });
});

describe('the user pool', () => {
  it('admits no self sign-up, requires MFA, has an immutable tenant attribute, on the Essentials plan', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      UserPoolTier: 'ESSENTIALS',
      Schema: Match.arrayWith([Match.objectLike({ Name: 'tenant', Mutable: false })]),
    });
  });

  it('adds the tenant claim with a V3_0 pre token generation trigger (client-credentials tokens too)', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: { PreTokenGenerationConfig: { LambdaArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IssueTenantClaim'), 'Arn'] }, LambdaVersion: 'V3_0' } },
    });
    dataTemplate.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'cognito-idp.amazonaws.com', FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IssueTenantClaim'), 'Arn'] } });
  });

  it('has a resource server with every scope of the API', () => {
    dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'telltale',
      Scopes: Object.values(scopes).map((s) => Match.objectLike({ ScopeName: s.slice('telltale/'.length) })),
    });
  });

  it('has a client-credentials client with a secret and every scope, mapped to the demo tenant', () => {
    const machineClients = Object.values(dataTemplate.findResources('AWS::Cognito::UserPoolClient', { Properties: { GenerateSecret: true, AllowedOAuthFlows: ['client_credentials'] } }));
    expect(machineClients).toHaveLength(1);
    // Each scope is `<resource server identifier>/<name>`, joined at deploy time.
    const granted = JSON.stringify(machineClients[0].Properties.AllowedOAuthScopes);
    for (const scope of Object.values(scopes)) expect(granted).toContain(`"${scope.slice('telltale'.length)}"`);
    expect(machineClients[0].Properties.AllowedOAuthScopes).toHaveLength(Object.values(scopes).length);
    // The client id is only known at deploy time, so the call is a Fn::Join of JSON pieces.
    const seeds = Object.values(dataTemplate.findResources('Custom::AWS')).map((r) => JSON.stringify(r.Properties.Create));
    expect(seeds).toHaveLength(1);
    expect(seeds[0]).toContain('\\"action\\":\\"putItem\\"');
    expect(seeds[0]).toContain('\\"tenant\\":{\\"S\\":\\"demo\\"}');
    expect(seeds[0]).toContain('CLIENT#');
  });

  it('keeps the demo client mapping when the demo tenant changes: its physical id names the client, not the tenant', () => {
    const other = buildTelltale({ demoTenant: 'acme' });
    try {
      const seedOf = (template: typeof dataTemplate) => Object.values(template.findResources('Custom::AWS'))[0].Properties as Record<'Create' | 'Update' | 'Delete', unknown>;
      const [before, after] = [seedOf(dataTemplate), seedOf(other.dataTemplate)];
      const physicalIdOf = (call: unknown) => JSON.stringify(call).replace(/^.*physicalResourceId/, '');
      expect(JSON.stringify(after.Update)).toContain('\\"tenant\\":{\\"S\\":\\"acme\\"}');
      // The same physical id before and after: CloudFormation updates in place and sends no Delete.
      expect(physicalIdOf(after.Update)).toBe(physicalIdOf(before.Update));
      expect(physicalIdOf(after.Create)).toBe(physicalIdOf(before.Create));
      expect(physicalIdOf(before.Update)).toMatch(/DemoClient/);
    } finally {
      other.cleanup();
    }
  });

  it('outputs the user pool id and the token URL', () => {
    dataTemplate.hasOutput('UserPoolId', {});
    dataTemplate.hasOutput('TokenUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/oauth2/token$')])] } });
  });
});
