import os from 'node:os';
import { round } from './bench-env';
import type { LoadFigures } from './load';

/**
 * Rounds, medians and spreads: a bench measures each side several times, the sides taking turns
 * (the order reversed every other round), so a busy moment on the machine falls on both sides
 * instead of on one; it reports each side's median with its lowest and highest round.
 */

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: number[], digits = 1): Spread {
  return {
    median: round(median(xs), digits),
    min: round(Math.min(...xs), digits),
    max: round(Math.max(...xs), digits),
  };
}

/** The sides in the order of round `r`: as given in even rounds, reversed in odd ones. */
export function turnOrder<T>(sides: T[], r: number): T[] {
  return r % 2 === 0 ? [...sides] : [...sides].reverse();
}

/** An HTTP side's rounds: median req/s with its spread, the median p50 and p99, and every round. */
export function loadSummary(rounds: LoadFigures[]) {
  const rps = spread(rounds.map((r) => r.reqPerSec));
  return {
    reqPerSec: rps.median,
    reqPerSecMin: rps.min,
    reqPerSecMax: rps.max,
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    p99MsMax: Math.max(...rounds.map((r) => r.p99Ms)),
    requests: rounds.reduce((s, r) => s + r.ok + r.non2xx, 0),
    non2xx: rounds.reduce((s, r) => s + r.non2xx, 0),
    errors: rounds.reduce((s, r) => s + r.errors, 0),
    rounds: rounds.map((r) => ({ reqPerSec: r.reqPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms })),
  };
}

/** The machine's 1-minute load average, to read a figure by: other jobs depress it. */
export const loadAverage = (): number => round(os.loadavg()[0], 2);
