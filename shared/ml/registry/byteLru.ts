/**
 * A least-recently-used map bounded by the bytes its entries declare. The most recent entry is
 * never evicted (a single entry over the budget stays until the next one arrives), and entries the
 * caller marks as pinned (a session still loading) are skipped.
 */
export class ByteLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onEvict: (key: string, value: V) => void,
    private readonly pinned: (value: V) => boolean = () => false,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.total;
  }

  /** The value, now the most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Adds or replaces `key` as the most recent entry, then evicts the least recent ones over the budget. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [k, entry] of this.entries) {
      if (this.total <= this.maxBytes || k === key) break;
      if (this.pinned(entry.value)) continue;
      this.delete(k);
      this.onEvict(k, entry.value);
    }
  }

  /** Forgets `key` without calling onEvict. */
  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.total -= entry.bytes;
    return true;
  }
}
