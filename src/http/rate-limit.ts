import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';

export type TokenLimiter = RequestHandler & {
  /** How many keys it holds now: at most `maxKeys`, and expired ones go at every sweep. */
  size(): number;
};

/**
 * Fixed-window limiter for the public pages, keyed by route and token, never by IP: the
 * policy promises visitor IPs are not kept. Keys are hashed so no token sits in memory either.
 *
 * Random tokens each take a key, so the keys live in an LRU of at most `maxKeys` (default 50,000)
 * that forgets them after the window. A flood of more distinct tokens than that within one window
 * evicts the least recently used key, whose count then starts over: memory stays bounded.
 */
export function limitPerToken(opts: {
  windowMs: number;
  max: number;
  onLimit: RequestHandler;
  maxKeys?: number;
}): TokenLimiter {
  const hits = new LRUCache<string, number>({ max: opts.maxKeys ?? 50_000, ttl: opts.windowMs });
  sweepEvery(opts.windowMs, hits);

  const limit: RequestHandler = (req, res, next) => {
    const key = crypto
      .createHash('sha256')
      .update(`${req.baseUrl}|${String(req.params.token ?? '')}`)
      .digest('base64url');
    // The window starts at a key's first hit: later hits keep its TTL (noUpdateTTL).
    const count = (hits.get(key) ?? 0) + 1;
    hits.set(key, count, { noUpdateTTL: true });
    if (count > opts.max) {
      res.set('Retry-After', String(Math.max(1, Math.ceil(hits.getRemainingTTL(key) / 1000))));
      return opts.onLimit(req, res, next);
    }
    next();
  };
  return Object.assign(limit, { size: () => hits.size });
}

/**
 * Drops expired keys even when no request comes. The timer is unref'd, so it never keeps the
 * process alive, and holds the cache only weakly, so a dropped app (tests build many) is freed.
 */
function sweepEvery(ms: number, cache: LRUCache<string, number>): void {
  const ref = new WeakRef(cache);
  const timer = setInterval(() => {
    const live = ref.deref();
    if (live) live.purgeStale();
    else clearInterval(timer);
  }, ms);
  timer.unref();
}
