import { S3Client } from '@aws-sdk/client-s3';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The S3 client of this container (path-style URLs for s3rver and LocalStack). */
export const s3 = once(() =>
  traced(new S3Client({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_S3), forcePathStyle: awsConfig().S3_FORCE_PATH_STYLE })),
);
