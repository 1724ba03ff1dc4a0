/**
 * Growth, not speed: the best of five timings at n and at 4n, inputs built before the clock starts. A linear scan
 * grows about 4x, a quadratic one 16x; the ratio of two runs in one process holds whatever the machine's load,
 * where a wall-clock limit failed on a loaded CI machine.
 */
export function growthFactor<T>(make: (n: number) => T, run: (input: T) => void, n: number): number {
  const best = (input: T) => {
    let min = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      run(input);
      min = Math.min(min, performance.now() - t0);
    }
    return Math.max(min, 0.1);
  };
  const small = make(n);
  const large = make(4 * n);
  best(large); // warm-up: the JIT compiles the scanner before the measured runs
  return best(large) / best(small);
}
