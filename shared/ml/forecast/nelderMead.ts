export interface Minimum {
  x: number[];
  value: number;
}

/** Nelder-Mead simplex minimiser (standard coefficients); enough for the 1 to 6 parameters of an ETS fit. */
export function nelderMead(f: (x: readonly number[]) => number, start: readonly number[], maxIterations = 400, step = 0.5, tolerance = 1e-9): Minimum {
  const dim = start.length;
  let simplex: Minimum[] = [{ x: [...start], value: f(start) }];
  for (let i = 0; i < dim; i++) {
    const x = [...start];
    x[i] += step;
    simplex.push({ x, value: f(x) });
  }
  const along = (from: readonly number[], to: readonly number[], t: number): number[] => from.map((v, i) => v + t * (to[i] - v));
  for (let iter = 0; iter < maxIterations; iter++) {
    simplex.sort((a, b) => a.value - b.value);
    const bestV = simplex[0].value;
    const worst = simplex[dim];
    if (Math.abs(worst.value - bestV) <= tolerance * (Math.abs(bestV) + tolerance)) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) centroid[j] += simplex[i].x[j] / dim;
    const reflected = along(centroid, worst.x, -1);
    const fr = f(reflected);
    if (fr < bestV) {
      const expanded = along(centroid, worst.x, -2);
      const fe = f(expanded);
      simplex[dim] = fe < fr ? { x: expanded, value: fe } : { x: reflected, value: fr };
    } else if (fr < simplex[dim - 1].value) {
      simplex[dim] = { x: reflected, value: fr };
    } else {
      const contracted = fr < worst.value ? along(centroid, reflected, 0.5) : along(centroid, worst.x, 0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, worst.value)) {
        simplex[dim] = { x: contracted, value: fc };
      } else {
        const best = simplex[0].x;
        simplex = simplex.map((p, i) => (i === 0 ? p : ((x) => ({ x, value: f(x) }))(along(best, p.x, 0.5))));
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return simplex[0];
}

/**
 * Nelder-Mead restarted from its own optimum until a restart no longer improves: a simplex that has collapsed onto
 * a ridge (common when a trend and a season trade off, as on CO2) reports convergence too early, and a fresh simplex
 * around the same point gets it moving again.
 */
export function minimise(f: (x: readonly number[]) => number, start: readonly number[], maxRestarts = 2): Minimum {
  const iterations = 200 * Math.max(2, start.length);
  let best = nelderMead(f, start, iterations);
  for (let r = 0; r < maxRestarts; r++) {
    const next = nelderMead(f, best.x, iterations, 0.25);
    const improved = best.value - next.value > 1e-7 * (Math.abs(best.value) + 1e-12);
    if (next.value < best.value) best = next;
    if (!improved) break;
  }
  return best;
}
