import request from 'supertest';
import jwt from 'jsonwebtoken';
import { buildSignUp, dumpAllTables, startTestApp, type TestApp } from '../support/test-app';
import { createActiveMembers, createCampaign } from '../support/club';
import { buildCampaign } from '../support/factories';
import { prng } from '../support/prng';
import { recordFinding } from './findings';

const PER_ROUTE = Number(process.env.FUZZ_PER_ROUTE ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A value of a type the field never accepts (never null: some fields are nullable). */
function wrongType(v: Json, rnd: () => number): Json {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  if (typeof v === 'string') return pick<Json>([42, -1.5, true, {}, [v], 'x'.repeat(300_000)]);
  if (typeof v === 'number') return pick<Json>(['12', true, {}, []]);
  if (typeof v === 'boolean') return pick<Json>(['true', 1, {}, []]);
  if (Array.isArray(v)) return pick<Json>(['x', 7, { 0: 'a' }]);
  return pick<Json>([7, 'x', [], true]);
}

function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (v && typeof v === 'object') {
    const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    return entries.flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
  }
  return [];
}

/** One body that the route must refuse: raw text, or JSON. */
function badBody(base: Json, rnd: () => number): { raw?: string; json?: Json } {
  const clone = () => JSON.parse(JSON.stringify(base)) as Json;
  const kind = Math.floor(rnd() * 6);
  const text = JSON.stringify(base);
  switch (kind) {
    case 0: // not JSON at all, or cut short
      return {
        raw:
          rnd() < 0.5
            ? text.slice(0, 1 + Math.floor(rnd() * (text.length - 1)))
            : String.fromCharCode(...Array.from({ length: 40 }, () => Math.floor(rnd() * 0xd7ff))),
      };
    case 1: // the wrong top-level shape
      return { json: [null, 0, 'text', true, [], [base]][Math.floor(rnd() * 6)] as Json };
    case 2: {
      // an unknown field, at the top or in a nested object
      const b = clone() as Record<string, Json>;
      const name = ['isAdmin', '__proto__', 'constructor', 'status', 'id', `x${Math.floor(rnd() * 1e6)}`][
        Math.floor(rnd() * 6)
      ];
      const objects = [
        [] as (string | number)[],
        ...paths(b).filter((p) => {
          const v = get(b, p);
          return v && typeof v === 'object' && !Array.isArray(v);
        }),
      ];
      const target = objects[Math.floor(rnd() * objects.length)];
      // Assigning __proto__ would set the prototype, not add a key: add a stand-in and rename it in the text.
      (get(b, target) as Record<string, Json>)[name === '__proto__' ? '__proto__x' : name] = 'surprise';
      return { raw: JSON.stringify(b).replace('"__proto__x"', '"__proto__"') };
    }
    default: {
      // a field (possibly nested) with a value of the wrong type
      const b = clone();
      const ps = paths(b);
      if (ps.length === 0) return { json: { unexpected: true } };
      const p = ps[Math.floor(rnd() * ps.length)];
      set(b, p, wrongType(get(b, p), rnd));
      return { json: b };
    }
  }
}

function get(v: Json, p: (string | number)[]): Json {
  return p.reduce<Json>((acc, k) => (acc as Record<string, Json>)[k as string], v);
}
function set(v: Json, p: (string | number)[], value: Json): void {
  const parent = get(v, p.slice(0, -1)) as Record<string, Json>;
  parent[p[p.length - 1] as string] = value;
}

function randomToken(rnd: () => number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%';
  const kind = Math.floor(rnd() * 4);
  if (kind === 0)
    return jwt.sign({ s: 'u', m: 1 + Math.floor(rnd() * 5) }, 'not-the-key-0123456789abcdef0123456789', {
      header: { alg: 'HS256', kid: 'k1' },
      noTimestamp: true,
    });
  if (kind === 1)
    return encodeURIComponent(
      String.fromCharCode(
        ...Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => 1 + Math.floor(rnd() * 0x2fff)),
      ),
    );
  const len = kind === 2 ? 43 : 1 + Math.floor(rnd() * 3000);
  return Array.from({ length: len }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
}

describe(`fuzz: bad bodies and tokens (seed ${SEED})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(process.env.TEST_MYSQL_URL ? 'mysql' : 'sqlite', {
      env: { DOUBLE_OPT_IN: 'false' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('no 5xx and no state change, for every /v1 route that takes a body and for /u, /c and /p', async () => {
    const [member] = await createActiveMembers(t, 1);
    const campaignId = await createCampaign(t);
    const req = await request(t.app)
      .post('/v1/privacy-requests')
      .set('authorization', `Bearer ${t.tokens.admin}`)
      .send({ type: 'access', email: member.email, receivedAt: '2026-11-20T09:00:00Z', channel: 'email' });
    expect(req.status).toBe(201);
    const routes: Array<{ method: 'post' | 'patch'; path: string; base: Json }> = [
      { method: 'post', path: '/v1/members', base: buildSignUp() as Json },
      { method: 'patch', path: `/v1/members/${member.id}`, base: { firstName: 'Ny', phone: '+4790000000' } },
      { method: 'post', path: `/v1/members/${member.id}/unsubscribe`, base: { channel: 'app' } },
      { method: 'post', path: `/v1/members/${member.id}/restrict`, base: { restricted: true } },
      {
        method: 'post',
        path: '/v1/privacy-requests',
        base: {
          type: 'erasure',
          email: 'ny@example.no',
          receivedAt: '2026-11-20T09:00:00Z',
          channel: 'email',
          note: 'n',
        },
      },
      {
        method: 'patch',
        path: `/v1/privacy-requests/${req.body.id}`,
        base: { status: 'done', note: 'ok', outcome: 'svart' },
      },
      { method: 'post', path: '/v1/campaigns', base: JSON.parse(JSON.stringify(buildCampaign())) as Json },
      {
        method: 'patch',
        path: `/v1/campaigns/${campaignId}`,
        base: { name: 'Nytt navn', audience: { sources: ['web'], partnerIds: ['s1'] } },
      },
      { method: 'post', path: '/v1/campaigns/audience-count', base: { audience: { sources: ['web'] } } },
      { method: 'post', path: `/v1/campaigns/${campaignId}/test`, base: { to: ['test@example.no'] } },
      {
        method: 'post',
        path: `/v1/campaigns/${campaignId}/send`,
        base: { scheduledAt: '2030-01-01T10:00:00+01:00' },
      },
      { method: 'post', path: `/v1/campaigns/${campaignId}/pause`, base: {} },
      { method: 'post', path: `/v1/campaigns/${campaignId}/resume`, base: {} },
      { method: 'post', path: `/v1/campaigns/${campaignId}/cancel`, base: {} },
    ];
    const before = await dumpAllTables(t.c);
    const mailsBefore = t.peer.mails.length;
    const rnd = prng(SEED);
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    const fail: string[] = [];

    for (const r of routes) {
      for (let i = 0; i < PER_ROUTE; i++) {
        const body = badBody(r.base, rnd);
        const agent = request(t.app);
        const res = await agent[r.method](r.path)
          .set('authorization', `Bearer ${t.tokens.admin}`)
          .set('content-type', 'application/json')
          .send(body.raw ?? JSON.stringify(body.json));
        count(res.status);
        if (res.status >= 500 || res.status < 400)
          fail.push(
            `${r.method} ${r.path} → ${res.status} for ${(body.raw ?? JSON.stringify(body.json)).slice(0, 200)}`,
          );
        else if (!/problem\+json/.test(res.headers['content-type'] ?? ''))
          fail.push(`${r.path}: ${res.status} without problem+json`);
      }
    }
    for (const prefix of ['/u/', '/c/', '/p/']) {
      for (let i = 0; i < PER_ROUTE; i++) {
        const token = randomToken(rnd);
        const suffix = prefix === '/p/' && rnd() < 0.3 ? (rnd() < 0.5 ? '/data.json' : '/erase') : '';
        const res =
          rnd() < 0.5
            ? await request(t.app).get(prefix + token + suffix)
            : await request(t.app)
                .post(prefix + token + suffix)
                .type('form')
                .send(rnd() < 0.5 ? 'List-Unsubscribe=One-Click' : 'confirm=ja');
        count(res.status);
        if (res.status >= 500 || res.status === 200)
          fail.push(`${prefix}${token.slice(0, 60)}${suffix} → ${res.status}`);
      }
    }

    expect(fail.slice(0, 10)).toEqual([]);
    expect(await dumpAllTables(t.c)).toBe(before);
    expect(t.peer.mails.length).toBe(mailsBefore);
    recordFinding('fuzz', {
      seed: SEED,
      perRoute: PER_ROUTE,
      requests: [...statuses.values()].reduce((a, b) => a + b, 0),
      statuses: Object.fromEntries(statuses),
    });
  });
});
