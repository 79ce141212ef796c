import crypto from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * Fixed-window limiter for the public pages, keyed by route and token, never by IP: the
 * policy promises visitor IPs are not kept. Keys are hashed so no token sits in memory either.
 */
export function limitPerToken(opts: {
  windowMs: number;
  max: number;
  onLimit: RequestHandler;
}): RequestHandler {
  const hits = new Map<string, { count: number; resetAt: number }>();
  return (req, res, next) => {
    const now = Date.now();
    if (hits.size > 50_000) for (const [k, v] of hits) if (v.resetAt <= now) hits.delete(k);
    const key = crypto
      .createHash('sha256')
      .update(`${req.baseUrl}|${String(req.params.token ?? '')}`)
      .digest('base64url');
    const entry = hits.get(key);
    if (!entry || entry.resetAt <= now) {
      hits.set(key, { count: 1, resetAt: now + opts.windowMs });
      return next();
    }
    entry.count++;
    if (entry.count > opts.max) {
      res.set('Retry-After', String(Math.ceil((entry.resetAt - now) / 1000)));
      return opts.onLimit(req, res, next);
    }
    next();
  };
}
