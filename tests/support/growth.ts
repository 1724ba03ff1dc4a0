/**
 * Growth, not speed: the best of three timings at n and 4n. A linear scan grows about 4x, a quadratic one 16x;
 * the bound sits between, and the same process's ratio holds whatever the machine's load (no wall-clock limit).
 */
export function growthFactor(run: (n: number) => void, n: number): number {
  const best = (size: number) => {
    let min = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      run(size);
      min = Math.min(min, performance.now() - t0);
    }
    return Math.max(min, 0.5);
  };
  best(n); // warm-up: the JIT compiles the scanner before the measured runs
  return best(4 * n) / best(n);
}
