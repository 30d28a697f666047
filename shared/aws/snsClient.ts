import { SNSClient } from '@aws-sdk/client-sns';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The SNS client of this container. */
export const sns = once(() => traced(new SNSClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_SNS) })));
