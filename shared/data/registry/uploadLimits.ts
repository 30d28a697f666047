import { z } from 'zod';
import { functionEnv, readConfig } from '../../platform/config.js';

/** S3's largest single PUT; a presigned URL cannot take more. */
export const maxSinglePutBytes = 5 * 1024 ** 3;

const bytes = z.coerce.number().int().positive().max(maxSinglePutBytes);

/** `tenant=bytes` pairs, comma-separated. */
const perTenant = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const limits = new Map<string, number>();
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [tenant, value] = pair.split('=');
      const parsed = bytes.safeParse(value);
      if (!tenant || !parsed.success) {
        ctx.addIssue({ code: 'custom', message: `"${pair}" is not tenant=bytes (1 to ${maxSinglePutBytes})` });
        return z.NEVER;
      }
      limits.set(tenant.trim(), parsed.data);
    }
    return limits;
  });

const uploadEnv = z.object({
  /** The largest file a tenant may declare for an upload URL. */
  DATASET_MAX_UPLOAD_BYTES: bytes.default(maxSinglePutBytes),
  /** Tenants with another limit than DATASET_MAX_UPLOAD_BYTES. */
  DATASET_TENANT_MAX_UPLOAD_BYTES: perTenant,
});

export interface UploadLimits {
  maxBytes: number;
  perTenant: ReadonlyMap<string, number>;
}

export function uploadLimits(env = functionEnv()): UploadLimits {
  const config = readConfig(uploadEnv, env);
  return { maxBytes: config.DATASET_MAX_UPLOAD_BYTES, perTenant: config.DATASET_TENANT_MAX_UPLOAD_BYTES };
}

export const maxUploadBytesOf = (limits: UploadLimits, tenant: string): number => limits.perTenant.get(tenant) ?? limits.maxBytes;
