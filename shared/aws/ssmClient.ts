import { SSMClient } from '@aws-sdk/client-ssm';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The SSM (Parameter Store) client of this container. */
export const ssm = once(() => traced(new SSMClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_SSM) })));
