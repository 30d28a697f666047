import { describe, expect, it } from 'vitest';
import { tenantCache } from '../../../shared/platform/tenantCache.js';

/** A store of `tenant/id` items that records every read. */
function store(items: Record<string, string>) {
  const reads: string[] = [];
  const load = async (tenant: string, id: string) => {
    reads.push(`${tenant}/${id}`);
    return items[`${tenant}/${id}`];
  };
  return { reads, load };
}

describe('the per-container tenant cache', () => {
  it('reads an item once per TTL, keeps "not found" for its own TTL, and shares concurrent reads', async () => {
    let clock = 0;
    const { reads, load } = store({ 't/a': 'A' });
    const cache = tenantCache(load, { ttlMs: (v) => (v ? 5_000 : 1_000), maxEntries: 10, now: () => clock });
    expect(await Promise.all([cache.get('t', 'a'), cache.get('t', 'a'), cache.get('t', 'z')])).toEqual(['A', 'A', undefined]);
    expect(reads).toEqual(['t/a', 't/z']);
    clock = 1_001;
    await Promise.all([cache.get('t', 'a'), cache.get('t', 'z')]);
    expect(reads).toEqual(['t/a', 't/z', 't/z']);
    clock = 5_001;
    expect(await cache.get('t', 'a')).toBe('A');
    expect(reads).toEqual(['t/a', 't/z', 't/z', 't/a']);
  });

  it('keeps nothing when the TTL of a value is 0', async () => {
    const { reads, load } = store({ 't/a': 'A' });
    const cache = tenantCache(load, { ttlMs: (v) => (v ? 5_000 : 0), maxEntries: 10 });
    await cache.get('t', 'z');
    await cache.get('t', 'z');
    await cache.get('t', 'a');
    await cache.get('t', 'a');
    expect(reads).toEqual(['t/z', 't/z', 't/a']);
    expect(cache.size).toBe(1);
  });

  it('never serves one tenant\'s item to another, whatever the ids spell', async () => {
    const { reads, load } = store({ 'a/s1': 'A1', 'a\u0000b/c': 'AB-C' });
    const cache = tenantCache(load, { ttlMs: () => 60_000, maxEntries: 10 });
    expect(await cache.get('a', 's1')).toBe('A1');
    expect(await cache.get('b', 's1')).toBeUndefined();
    expect(await cache.get('a\u0000b', 'c')).toBe('AB-C');
    expect(await cache.get('a', 'b\u0000c')).toBeUndefined();
    expect(await cache.get('a1', '')).toBeUndefined();
    expect(reads).toEqual(['a/s1', 'b/s1', 'a\u0000b/c', 'a/b\u0000c', 'a1/']);
  });

  it('holds at most maxEntries items, dropping the oldest', async () => {
    const { reads, load } = store({ 't/1': '1', 't/2': '2', 't/3': '3' });
    const cache = tenantCache(load, { ttlMs: () => 60_000, maxEntries: 2 });
    for (const id of ['1', '2', '3']) await cache.get('t', id);
    expect(cache.size).toBe(2);
    await cache.get('t', '3');
    await cache.get('t', '2');
    await cache.get('t', '1');
    expect(reads).toEqual(['t/1', 't/2', 't/3', 't/1']);
  });

  it('does not cache a failed read', async () => {
    let fail = true;
    const cache = tenantCache(async () => (fail ? Promise.reject(new Error('throttled')) : 'A'), { ttlMs: () => 60_000, maxEntries: 10 });
    await expect(cache.get('t', 'a')).rejects.toThrow('throttled');
    fail = false;
    expect(await cache.get('t', 'a')).toBe('A');
  });
});
