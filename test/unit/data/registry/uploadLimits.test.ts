import { describe, expect, it } from 'vitest';
import { maxUploadBytesOf, uploadLimits } from '../../../../shared/data/registry/uploadLimits.js';

describe('upload limits', () => {
  it('default to 5 GiB, S3\'s single PUT maximum, for every tenant', () => {
    expect(maxUploadBytesOf(uploadLimits({}), 'acme')).toBe(5 * 1024 ** 3);
  });

  it('take a global value and per-tenant ones', () => {
    const limits = uploadLimits({ DATASET_MAX_UPLOAD_BYTES: '1000', DATASET_TENANT_MAX_UPLOAD_BYTES: 'acme=50, big=2000' });
    expect([maxUploadBytesOf(limits, 'acme'), maxUploadBytesOf(limits, 'big'), maxUploadBytesOf(limits, 'other')]).toEqual([50, 2000, 1000]);
  });

  it('fail at load on a value over 5 GiB or a malformed pair', () => {
    expect(() => uploadLimits({ DATASET_MAX_UPLOAD_BYTES: String(6 * 1024 ** 3) })).toThrow(/DATASET_MAX_UPLOAD_BYTES/);
    expect(() => uploadLimits({ DATASET_TENANT_MAX_UPLOAD_BYTES: 'acme' })).toThrow(/tenant=bytes/);
    expect(() => uploadLimits({ DATASET_TENANT_MAX_UPLOAD_BYTES: 'acme=-1' })).toThrow(/tenant=bytes/);
  });
});
