import autocannon from 'autocannon';
import { round } from './bench-env';

export interface LoadFigures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  ok: number;
  /** 3xx answers (a redirect is the success of `/r/`). */
  redirects: number;
  errors: number;
  seconds: number;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Builds each request (e.g. a unique body or path); called once per request sent. */
  setupRequest?: (req: autocannon.Request) => autocannon.Request;
  connections: number;
  /** Open-ended warm-up (JIT, pools); its figures are thrown away. */
  warmupSeconds: number;
  /** Target length of the measured run. */
  seconds: number;
  /** Upper bound on measured requests (e.g. the tokens the warm-up left), asked after the warm-up. */
  maxRequests?: () => number;
  /** Runs after the warm-up, before the measured run (e.g. to count rows once the server is quiet). */
  betweenRuns?: () => Promise<void>;
}

/**
 * autocannon's sample interval. It ends a run of a fixed `amount` only at its next sample tick, so
 * with the default 1 s every such run lasted a whole number of seconds and its rate came out
 * up to a second's worth low; at 10 ms the run ends within 10 ms of its last answer.
 */
export const AUTOCANNON_SAMPLE_MS = 10;

/**
 * Warm-up for `warmupSeconds`, then a measured run of a fixed number of requests sized from the
 * warm-up rate to last about `seconds`. A fixed amount (rather than a duration) lets every request
 * finish, so the caller can compare database rows with the 2xx count exactly. Returns the
 * measured run and how many requests the warm-up sent.
 */
export async function measureLoad(o: LoadOptions): Promise<{ figures: LoadFigures; warmupSent: number }> {
  const base = {
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    timeout: 30,
    sampleInt: AUTOCANNON_SAMPLE_MS,
    // autocannon calls setupRequest whenever the key is present, so leave it out when unset.
    requests: [
      {
        method: o.method ?? 'GET',
        path: o.path,
        headers: o.headers,
        ...(o.setupRequest ? { setupRequest: o.setupRequest } : {}),
      },
    ],
  };
  const warm = await autocannon({ ...base, duration: o.warmupSeconds });
  const warmRate = warm.requests.sent / warm.duration;
  let amount = Math.max(o.connections * 20, Math.round(warmRate * o.seconds));
  if (o.maxRequests) amount = Math.min(amount, o.maxRequests());
  amount -= amount % o.connections;
  await o.betweenRuns?.();
  const r = await autocannon({ ...base, amount });
  return { figures: figuresOf(r), warmupSent: warm.requests.sent };
}

export function figuresOf(r: autocannon.Result): LoadFigures {
  const completed = r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  return {
    reqPerSec: round(completed / r.duration),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    ok: r['2xx'],
    redirects: r['3xx'],
    errors: r.errors,
    seconds: r.duration,
  };
}
