import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The EventBridge client of this container. */
export const eventBridge = once(() => traced(new EventBridgeClient({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_EVENTBRIDGE) })));
