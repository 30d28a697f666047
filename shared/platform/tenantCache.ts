export interface TenantCacheOptions<V> {
  /** How long a loaded value is trusted, by value: "not found" can be kept shorter, and 0 keeps nothing. */
  ttlMs: (value: V) => number;
  /** Entries kept at most; the oldest go first. */
  maxEntries: number;
  now?: () => number;
}

/**
 * A per-container read-through cache of a tenant's items, for the hot paths (sensors, model
 * pointers, deployments): one read per item per TTL, not per request. The key is the tenant and
 * the id, so one tenant's item is never served to another. Concurrent lookups of one item share
 * the read; a failed read is not cached.
 */
export function tenantCache<V>(load: (tenant: string, id: string) => Promise<V>, options: TenantCacheOptions<V>) {
  const { ttlMs, maxEntries, now = Date.now } = options;
  const entries = new Map<string, { expiresAt: number; value: Promise<V> }>();
  return {
    get(tenant: string, id: string): Promise<V> {
      // Length-prefixed, so no tenant and id pair can spell another's key.
      const key = `${tenant.length}:${tenant}${id}`;
      const hit = entries.get(key);
      if (hit && hit.expiresAt > now()) return hit.value;
      entries.delete(key);
      const value = load(tenant, id);
      // Until the read settles, lookups of the same item share it.
      const entry = { expiresAt: Number.POSITIVE_INFINITY, value };
      entries.set(key, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      const forget = () => entries.get(key) === entry && entries.delete(key);
      value.then((loaded) => {
        const ttl = ttlMs(loaded);
        if (ttl > 0) entry.expiresAt = now() + ttl;
        else forget();
      }, forget);
      return value;
    },
    get size(): number {
      return entries.size;
    },
  };
}
