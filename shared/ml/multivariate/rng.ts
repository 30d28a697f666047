/** Seeded PRNG (mulberry32): the same seed gives the same model, and the same synthetic series, on every machine. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal draw from a uniform source (Box-Muller); `1 - u` keeps the log's argument above 0. */
export function gaussian(uniform: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Standard normal draws from a uniform source. */
export function createGaussian(uniform: () => number): () => number {
  return () => gaussian(uniform);
}

/** k distinct indices from 0..n-1 (partial Fisher-Yates). */
export function sampleIndices(n: number, k: number, uniform: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(uniform() * (n - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, m);
}
