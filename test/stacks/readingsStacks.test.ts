import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import type { TelltaleFunction } from '../../stacks/constructs/telltaleFunction.js';
import { buildTelltale, logicalIdOf } from './telltaleApp.js';

const dynamo = buildTelltale();
const timestream = buildTelltale({ readingsStore: 'timestream', readingsRetentionDays: '30' });
afterAll(() => [dynamo, timestream].forEach((b) => b.cleanup()));

const fnOf = (built: typeof dynamo, name: string) => built.api.functions.get(name) as TelltaleFunction;
const propertiesOf = (built: typeof dynamo, name: string) =>
  (built.apiTemplate.findResources('AWS::Lambda::Function')[logicalIdOf(fnOf(built, name))] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties;
const policiesOf = (built: typeof dynamo, name: string) =>
  JSON.stringify(built.apiTemplate.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: logicalIdOf(fnOf(built, name).role!) }]) } }));

describe('the readings flow in the stacks', () => {
  it('declares the scoring queue with its dead-letter queue and a visibility timeout of six 60 s scorer runs', () => {
    dynamo.dataTemplate.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScoringDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 5 },
    });
  });

  it('expires reading buckets by TTL, after the retention the functions are told', () => {
    dynamo.dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true }, KeySchema: Match.anyValue() });
    expect(propertiesOf(dynamo, 'storeReadings').Environment.Variables).toMatchObject({ READINGS_STORE: 'dynamodb', READINGS_RETENTION_DAYS: '365' });
    expect(propertiesOf(timestream, 'storeReadings').Environment.Variables).toMatchObject({ READINGS_STORE: 'timestream', READINGS_RETENTION_DAYS: '30' });
  });

  it('lets the ingest handler send to the ingest queue only, and the writer to the scoring queue only', () => {
    // A queue is named by its logical id (an export) or by its SSM parameter (…queueingest…), whichever the data stack hands over.
    const ingest = /IngestQueue|queueingest/i;
    const scoring = /ScoringQueue|queuescoring/i;
    expect(policiesOf(dynamo, 'ingestReadings')).toMatch(ingest);
    expect(policiesOf(dynamo, 'ingestReadings')).not.toMatch(scoring);
    expect(policiesOf(dynamo, 'storeReadings')).toMatch(scoring);
    expect(policiesOf(dynamo, 'getReadings')).not.toMatch(/sqs:SendMessage|dynamodb:PutItem/);
  });

  it('creates no Timestream resources by default', () => {
    dynamo.dataTemplate.resourceCountIs('AWS::Timestream::Database', 0);
    expect(policiesOf(dynamo, 'storeReadings')).not.toMatch(/timestream/);
  });

  it('with -c readingsStore=timestream: the database and table, magnetic writes for late readings, and least-privilege grants', () => {
    timestream.dataTemplate.hasResourceProperties('AWS::Timestream::Database', { DatabaseName: 'telltale-dev' });
    timestream.dataTemplate.hasResourceProperties('AWS::Timestream::Table', {
      DatabaseName: 'telltale-dev',
      TableName: 'readings',
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: '24', MagneticStoreRetentionPeriodInDays: '30' },
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    expect(policiesOf(timestream, 'storeReadings')).toMatch(/"timestream:Select","timestream:WriteRecords"\],"Effect":"Allow","Resource":\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":timestream:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":database\/telltale-dev\/table\/readings"\]\]\}/);
    expect(policiesOf(timestream, 'getReadings')).toMatch(/"Action":"timestream:Select"/);
    expect(policiesOf(timestream, 'getReadings')).not.toMatch(/WriteRecords/);
    expect(propertiesOf(timestream, 'getReadings').Environment.Variables).toMatchObject({ TIMESTREAM_DATABASE: 'telltale-dev', TIMESTREAM_TABLE: 'readings' });
    expect(policiesOf(timestream, 'getSensor')).not.toMatch(/timestream/);
  });

  it('with -c readingsStore=timestream leaves no unacknowledged cdk-nag finding', () => {
    const findings = new AwsSolutionsChecks().validateScope(timestream.app).violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));
    expect(findings).toEqual([]);
  });
});
