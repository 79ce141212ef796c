import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { limitPerToken } from '../../src/http/rate-limit';
import { createLogger } from '../../src/logger';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { waitUntil } from '../support/club';

/** Security issue #12, findings 6, 8, 9 and 10. */

// ── 6: the per-token limiter's memory is bounded ────────────────────────────────────────────────

type Outcome = 'passed' | 'limited';

/** Runs one request for `token` through the limiter, as the /u, /c and /p routers would. */
function hit(limiter: ReturnType<typeof limitPerToken>, token: string): Outcome {
  let outcome: Outcome | undefined;
  const req = { baseUrl: '/u', params: { token } } as unknown as Request;
  const res = { set: () => res } as unknown as Response;
  const next: NextFunction = () => void (outcome = 'passed');
  void limiter(req, res, next);
  if (!outcome) outcome = 'limited';
  return outcome;
}

function limiterWith(opts: { windowMs: number; max: number; maxKeys?: number }) {
  return limitPerToken({ ...opts, onLimit: () => undefined });
}

const randomToken = () => crypto.randomBytes(24).toString('base64url');

describe('finding 6: limitPerToken stays bounded under random tokens', () => {
  it('keeps at most maxKeys entries for 60,000 distinct tokens and still limits a repeated one', () => {
    const limiter = limiterWith({ windowMs: 60_000, max: 3, maxKeys: 1_000 });
    let passed = 0;
    for (let i = 0; i < 60_000; i++) if (hit(limiter, randomToken()) === 'passed') passed++;
    expect(passed).toBe(60_000);
    expect(limiter.size()).toBeLessThanOrEqual(1_000);

    const repeated = randomToken();
    expect([1, 2, 3, 4].map(() => hit(limiter, repeated))).toEqual(['passed', 'passed', 'passed', 'limited']);
  });

  it('is bounded by default too, below the 60,000 a flood can send in one window', () => {
    const limiter = limiterWith({ windowMs: 60_000, max: 3 });
    for (let i = 0; i < 60_000; i++) hit(limiter, randomToken());
    expect(limiter.size()).toBeLessThan(60_000);
  });

  it('sweeps expired entries on a timer, without waiting for the next request', async () => {
    // Real timers and a short window: lru-cache reads its own clock, which fake timers do not move.
    const limiter = limiterWith({ windowMs: 100, max: 1 });
    for (let i = 0; i < 100; i++) hit(limiter, randomToken());
    const again = randomToken();
    expect(hit(limiter, again)).toBe('passed');
    expect(hit(limiter, again)).toBe('limited');
    expect(limiter.size()).toBe(101);

    await waitUntil(async () => limiter.size() === 0, 2000, 10);
    expect(hit(limiter, again)).toBe('passed');
  });
});

// ── 8, 9, 10: through the app ───────────────────────────────────────────────────────────────────

const ADDRESS = 'kari@example.no';
const DUPLICATE = `Duplicate entry '${ADDRESS}' for key 'email'`;

describe.each(databaseKinds())('HTTP hardening on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('finding 8: /v1 authenticates before it parses a body', () => {
    it('answers an anonymous malformed body with 401, not 400', async () => {
      const r = await request(t.app)
        .post('/v1/members')
        .set('content-type', 'application/json')
        .send('{"a":');
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    });

    it('answers an anonymous oversize body with 401, not 413', async () => {
      const big = JSON.stringify({ note: 'x'.repeat(600 * 1024) });
      const r = await request(t.app).post('/v1/members').set('content-type', 'application/json').send(big);
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    });

    it('still answers an authenticated malformed body with 400 problem+json', async () => {
      const r = await request(t.app)
        .post('/v1/members')
        .set('authorization', `Bearer ${t.tokens.app}`)
        .set('content-type', 'application/json')
        .send('{"a":');
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.body.type).toMatch(/malformed-json$/);
    });

    it('still takes an authenticated well-formed body', async () => {
      const r = await request(t.app)
        .post('/v1/members')
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send(buildSignUp());
      expect(r.status).toBe(201);
    });
  });

  describe('finding 9: a 500 logs the error without the address in it', () => {
    /** The `unhandled error` lines written since `from`. */
    const unhandledSince = (from: number) => t.logs.slice(from).filter((l) => l.includes('unhandled error'));

    it('redacts message and stack in the /v1 problem handler', async () => {
      jest.spyOn(t.c.members, 'list').mockRejectedValueOnce(new Error(DUPLICATE));
      const from = t.logs.length;
      const r = await request(t.app).get('/v1/members').set('authorization', `Bearer ${t.tokens.read}`);
      expect(r.status).toBe(500);
      expect(r.text).not.toContain(ADDRESS);

      const lines = unhandledSince(from);
      expect(lines).toHaveLength(1);
      const err = JSON.parse(lines[0]).err;
      expect(lines[0]).not.toContain(ADDRESS);
      expect(err.message).toBe(`Duplicate entry '<recipient>' for key 'email'`);
      expect(err.stack).toMatch(/^Error: Duplicate entry '<recipient>' for key 'email'\n\s+at /);
    });

    it('redacts message and stack in the page error handler', async () => {
      jest.spyOn(t.c.privacy, 'unsubscribeView').mockRejectedValueOnce(new Error(DUPLICATE));
      const from = t.logs.length;
      const r = await request(t.app).get(`/u/${randomToken()}`);
      expect(r.status).toBe(500);
      expect(r.text).not.toContain(ADDRESS);

      const lines = unhandledSince(from);
      expect(lines).toHaveLength(1);
      const err = JSON.parse(lines[0]).err;
      expect(lines[0]).not.toContain(ADDRESS);
      expect(err.message).toBe(`Duplicate entry '<recipient>' for key 'email'`);
      expect(err.stack).toMatch(/^Error: Duplicate entry '<recipient>' for key 'email'\n\s+at /);
    });
  });

  describe('finding 10: revocation takes effect at once in the revoking process', () => {
    it('refuses the next request after revoke, inside the 5 s cache window', async () => {
      const token = await t.c.clients.create('revoked-at-once', ['members:read']);
      const get = () => request(t.app).get('/v1/members').set('authorization', `Bearer ${token}`);
      expect((await get()).status).toBe(200);
      expect(await t.c.clients.revoke('revoked-at-once')).toBe(true);
      const r = await get();
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    });
  });
});

describe('finding 9: every logged error is redacted, wherever it is logged', () => {
  it('removes addresses from err and error fields, strings and Error objects alike', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (l: string) => void lines.push(l) });
    const dup = new Error("Duplicate entry 'kari@example.no' for key 'uq_members_email'");
    logger.error({ err: dup }, 'admin page failed');
    logger.warn({ err: String(dup) }, 'job failed');
    logger.warn({ error: '550 5.1.1 <ola@example.no>: mailbox unavailable' }, 'mail failed');
    logger.error({ err: { message: 'x kari@example.no', stack: 'Error: x kari@example.no\n at y' } }, 'page');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).not.toMatch(/kari@example\.no|ola@example\.no/);
      expect(line).toContain('<recipient>');
    }
    expect(lines[0]).toContain('for key');
    expect(lines[2]).toContain('mailbox unavailable');
  });
});
