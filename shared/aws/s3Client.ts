import { S3Client } from '@aws-sdk/client-s3';
import { awsConfig, endpoint, once, traced } from './clients.js';

/** The S3 client of this container (path-style URLs for s3rver and LocalStack). */
export const s3 = once(() =>
  traced(new S3Client({ region: awsConfig().AWS_REGION, endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_S3), forcePathStyle: awsConfig().S3_FORCE_PATH_STYLE })),
);

/**
 * The S3 client that signs upload URLs. The SDK's default checksum (CRC32) would be computed over
 * the empty body a presigned command has and signed into the URL (`x-amz-checksum-crc32=AAAAAA==`),
 * a checksum no real file matches; checksums only when an operation requires one.
 */
export const s3Presigner = once(() =>
  new S3Client({
    region: awsConfig().AWS_REGION,
    endpoint: endpoint(awsConfig().AWS_ENDPOINT_URL_S3),
    forcePathStyle: awsConfig().S3_FORCE_PATH_STYLE,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  }),
);
