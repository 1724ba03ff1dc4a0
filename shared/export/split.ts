/**
 * `--split train=0.9,eval=0.1 --seed N`: each conversation goes to one split, decided by a hash of the seed and
 * its id — the same seed puts the same conversation in the same split in every export, whatever else was
 * selected. `--stratify persona|topic` keeps each persona's (topic's) share per split: within a stratum the
 * conversations are ranked by that hash and cut by the ratios, so a stratum of 10 gives exactly 9 and 1.
 */
import { createHash } from "node:crypto";

export interface SplitPart {
  name: string;
  ratio: number;
}

export class SplitSpecError extends Error {
  readonly code = "invalid_split";
}

/** `train=0.9,eval=0.1` → parts in the order given; ratios must be > 0 and sum to 1 (±1e-9). */
export function parseSplit(spec: string): SplitPart[] {
  const parts: SplitPart[] = [];
  for (const item of spec.split(",")) {
    const m = /^\s*([a-z][a-z0-9_-]{0,31})\s*=\s*([0-9]*\.?[0-9]+)\s*$/.exec(item);
    if (!m) throw new SplitSpecError(`cannot read '${item}': expected name=ratio, e.g. train=0.9`);
    const ratio = Number(m[2]);
    if (!(ratio > 0 && ratio <= 1)) throw new SplitSpecError(`ratio of '${m[1]}' must be in (0, 1]`);
    if (parts.some((p) => p.name === m[1])) throw new SplitSpecError(`split '${m[1]}' named twice`);
    parts.push({ name: m[1], ratio });
  }
  const sum = parts.reduce((s, p) => s + p.ratio, 0);
  if (Math.abs(sum - 1) > 1e-9) throw new SplitSpecError(`ratios sum to ${sum}, not 1`);
  return parts;
}

/** sha256 of `${seed}:${id}`, its first 52 bits as a number in [0, 1): stable across runs and platforms. */
export function splitHash(seed: number, id: string): number {
  const d = createHash("sha256").update(`${seed}:${id}`).digest();
  // 52 bits: 6 whole bytes and the high nibble of the seventh, exact in a double.
  const hi = d.readUIntBE(0, 6);
  return (hi * 16 + (d[6] >> 4)) / 2 ** 52;
}

/** The split of a hash value by cumulative ratios (no stratification). */
export function splitOf(parts: readonly SplitPart[], hash: number): string {
  let acc = 0;
  for (const p of parts) {
    acc += p.ratio;
    if (hash < acc) return p.name;
  }
  return parts[parts.length - 1].name;
}

/**
 * Cut points for one stratum: given the hashes of all its members, the hash value at which each split ends.
 * Counts per split are the largest-remainder rounding of n × ratio, so they add up to n.
 */
export function stratumCuts(parts: readonly SplitPart[], hashes: number[]): number[] {
  const sorted = [...hashes].sort((a, b) => a - b);
  const n = sorted.length;
  const exact = parts.map((p) => p.ratio * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) =>
    b[0] - a[0] || a[1] - b[1]
  );
  for (const [, i] of order) {
    if (left <= 0) break;
    counts[i]++;
    left--;
  }
  const cuts: number[] = [];
  let taken = 0;
  for (const c of counts) {
    taken += c;
    // The split ends after the member at position taken-1: everything with a hash <= that value is in it.
    cuts.push(taken === 0 ? -1 : sorted[taken - 1]);
  }
  return cuts;
}

/** The split of a member of a stratum, by the stratum's cut points. */
export function splitByCuts(parts: readonly SplitPart[], cuts: readonly number[], hash: number): string {
  for (let i = 0; i < parts.length; i++) if (hash <= cuts[i]) return parts[i].name;
  return parts[parts.length - 1].name;
}
