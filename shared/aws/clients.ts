import { z } from 'zod';
import { readConfig } from '../platform/config.js';
import { traced } from '../platform/observability.js';

export { traced };

/**
 * Settings of the AWS SDK clients (shared/aws/*Client.ts: one module per service, so a function
 * loads only the clients it uses). Each client is created once per container, on first use.
 * Endpoint overrides let the same code talk to AWS, LocalStack or the embedded local cloud
 * (AWS_ENDPOINT_URL for all services, AWS_ENDPOINT_URL_<SERVICE> for one, as the SDK defines).
 */
const awsEnv = z.object({
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ENDPOINT_URL: z.url().optional(),
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  AWS_ENDPOINT_URL_EVENTBRIDGE: z.url().optional(),
  AWS_ENDPOINT_URL_SFN: z.url().optional(),
  AWS_ENDPOINT_URL_SQS: z.url().optional(),
  AWS_ENDPOINT_URL_SNS: z.url().optional(),
  AWS_ENDPOINT_URL_SSM: z.url().optional(),
  /** Path-style S3 URLs, needed by s3rver and LocalStack. */
  S3_FORCE_PATH_STYLE: z.stringbool().default(false),
});

type AwsConfig = z.infer<typeof awsEnv>;
let config: AwsConfig | undefined;
export const awsConfig = (): AwsConfig => (config ??= readConfig(awsEnv));

export const endpoint = (specific: string | undefined) => specific ?? awsConfig().AWS_ENDPOINT_URL;

export function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}

/**
 * An adapter created on its first use: a function that loads a shared set of adapters starts without
 * the bindings of those it never calls (reading an unbound name throws), as on Lambda.
 */
export function lazy<T extends object>(create: () => T): T {
  const adapter = once(create);
  return new Proxy({} as T, {
    get: (_, key) => {
      const value: unknown = Reflect.get(adapter(), key);
      return typeof value === 'function' ? value.bind(adapter()) : value;
    },
  });
}

