import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { readConfig } from '../platform/config.js';
import { traced } from '../platform/observability.js';

/**
 * The only place that creates AWS SDK clients: one per container, created on first use.
 * Endpoint overrides let the same code talk to AWS, LocalStack or the embedded local cloud
 * (AWS_ENDPOINT_URL for all services, AWS_ENDPOINT_URL_<SERVICE> for one, as the SDK defines).
 */
const awsEnv = z.object({
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ENDPOINT_URL: z.url().optional(),
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  AWS_ENDPOINT_URL_SQS: z.url().optional(),
  AWS_ENDPOINT_URL_EVENTBRIDGE: z.url().optional(),
  AWS_ENDPOINT_URL_SFN: z.url().optional(),
  /** Path-style S3 URLs, needed by s3rver and LocalStack. */
  S3_FORCE_PATH_STYLE: z.stringbool().default(false),
});

type AwsConfig = z.infer<typeof awsEnv>;
let config: AwsConfig | undefined;
const awsConfig = (): AwsConfig => (config ??= readConfig(awsEnv));

const endpoint = (specific: string | undefined) => specific ?? awsConfig().AWS_ENDPOINT_URL;

function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}

export const dynamoDb = once(() =>
  DynamoDBDocumentClient.from(
    traced(new DynamoDBClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_DYNAMODB) })),
    { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } },
  ),
);

export const s3 = once(() =>
  traced(
    new S3Client({
      region: awsConfig().AWS_REGION,
      endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_S3),
      forcePathStyle: awsConfig().S3_FORCE_PATH_STYLE,
    }),
  ),
);

export const sqs = once(() => traced(new SQSClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_SQS) })));

export const eventBridge = once(() =>
  traced(new EventBridgeClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_EVENTBRIDGE) })),
);

export const stepFunctions = once(() => traced(new SFNClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_SFN) })));
