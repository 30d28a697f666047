import { SQSClient } from '@aws-sdk/client-sqs';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The SQS client of this container. */
export const sqs = once(() => traced(new SQSClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_SQS) })));
