import { SFNClient } from '@aws-sdk/client-sfn';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The Step Functions client of this container. */
export const stepFunctions = once(() => traced(new SFNClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_SFN) })));
