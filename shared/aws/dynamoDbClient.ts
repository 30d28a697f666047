import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The DynamoDB document client of this container. */
export const dynamoDb = once(() =>
  DynamoDBDocumentClient.from(
    traced(new DynamoDBClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_DYNAMODB) })),
    { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } },
  ),
);
