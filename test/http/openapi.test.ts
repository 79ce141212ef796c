import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { startTestApp, type TestApp } from '../support/test-app';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** Every route the running app really serves: method + full express path. */
function mountedRoutes(app: Express): Set<string> {
  const out = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods))
          if (m !== '_all')
            out.add(`${m.toUpperCase()} ${(prefix + layer.route.path).replace(/(.)\/$/, '$1')}`);
      } else if (layer.handle?.stack) {
        walk(
          layer.handle.stack,
          prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''),
        );
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

// The repository keeps a copy of the shared contract (CI may run without ../shared).
const CONTRACT_COPY = path.join(__dirname, '..', '..', 'docs', 'CONTRACT.md');
const CONTRACT_SHARED = path.join(__dirname, '..', '..', '..', 'shared', 'CONTRACT.md');

/**
 * Routes named in CONTRACT.md (`METHOD /path`, `{param}` read as `:param`, plus the `/resume` ·
 * `/cancel` shorthand, `/p/:token` and the click redirect `/r/{campaignId}/{n}`).
 * `/webhooks/{provider}` names the four provider routes spelled out in §9, not a route of its own.
 */
function contractRoutes(): Set<string> {
  const text = fs.readFileSync(CONTRACT_COPY, 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/`(GET|POST|PATCH|DELETE) (\/[^\s`?]+)/g))
    out.add(`${m[1]} ${m[2].replace(/\{(\w+)\}/g, ':$1')}`);
  out.delete('POST /webhooks/:provider');
  if (/`\/resume` · `\/cancel`/.test(text))
    ['resume', 'cancel'].forEach((a) => out.add(`POST /v1/campaigns/:id/${a}`));
  if (/\(`\/p\/:token`\)/.test(text)) out.add('GET /p/:token');
  if (/\/r\/\{campaignId\}\/\{n\}/.test(text)) out.add('GET /r/:campaignId/:n');
  return out;
}

/**
 * Contract routes not built yet, each with the issue that builds it. An issue removes its own
 * routes when it lands; the list is empty when the contract is whole.
 */
const NOT_BUILT_YET: Record<string, number> = {};

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: { openapi: string; paths: Record<string, Record<string, unknown>> };
  let documented: Set<string>;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    const r = await request(t.app).get('/openapi.json');
    expect(r.status).toBe(200);
    doc = r.body;
    documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is OpenAPI 3.1 with request schemas from zod', () => {
    expect(doc.openapi).toBe('3.1.0');
    const signUp = doc.paths['/v1/members'].post as {
      requestBody: {
        content: {
          'application/json': {
            schema: { properties: Record<string, unknown>; additionalProperties: boolean };
          };
        };
      };
    };
    const schema = signUp.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['email', 'source', 'consent']));
    expect(schema.additionalProperties).toBe(false);
  });

  it('keeps docs/CONTRACT.md equal to the shared contract when it is present', () => {
    if (fs.existsSync(CONTRACT_SHARED))
      expect(fs.readFileSync(CONTRACT_COPY, 'utf8')).toBe(fs.readFileSync(CONTRACT_SHARED, 'utf8'));
    else expect(fs.existsSync(CONTRACT_COPY)).toBe(true);
  });

  it('documents every route of CONTRACT.md', () => {
    const contract = contractRoutes();
    expect(contract.size).toBeGreaterThan(25);
    expect([...contract].filter((r) => !documented.has(r) && !(r in NOT_BUILT_YET))).toEqual([]);
  });

  it('lists as not built only contract routes that are really missing', () => {
    const contract = contractRoutes();
    // A stale entry (a route built, or no longer in the contract) must be removed from the list.
    expect(Object.keys(NOT_BUILT_YET).filter((r) => !contract.has(r) || documented.has(r))).toEqual([]);
  });

  it('documents exactly the routes the app serves (outside the admin UI and the docs page)', () => {
    const served = [...mountedRoutes(t.app)].filter((r) => !/ \/admin|^GET \/docs$/.test(r));
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.includes(r))).toEqual([]);
  });

  it('serves a readable docs page', async () => {
    const r = await request(t.app).get('/docs');
    expect(r.status).toBe(200);
    expect(r.text).toContain('POST /v1/members');
  });
});
