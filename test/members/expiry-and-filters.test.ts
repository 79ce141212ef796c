import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { linkFromMail, uniquePerson } from '../privacy/helpers';

const HOUR = 3600 * 1000;
const CONFIRM_RE = new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`);

describe.each(databaseKinds())('confirmation expiry and member filters over HTTP on %s', (kind) => {
  let t: TestApp;
  let now = new Date('2026-05-04T08:00:00.000Z');
  beforeAll(async () => {
    t = await startTestApp(kind, { clock: () => now });
  });
  afterAll(async () => {
    await t?.close();
  });

  const signUp = (body: Record<string, unknown>) =>
    request(t.app).post('/v1/members').set('authorization', `Bearer ${t.tokens.app}`).send(body);

  it('a confirmation link works for 72 hours, then shows the invalid-link page and activates nothing', async () => {
    const t0 = new Date('2026-05-04T08:00:00.000Z');
    now = t0;
    const early = uniquePerson('tidlig');
    const late = uniquePerson('sent');
    const earlyId = (await signUp(buildSignUp(early))).body.id;
    const lateId = (await signUp(buildSignUp(late))).body.id;
    const earlyLink = await linkFromMail(t, early.email, CONFIRM_RE);
    const lateLink = await linkFromMail(t, late.email, CONFIRM_RE);

    now = new Date(t0.getTime() + 72 * HOUR - 60_000);
    expect((await request(t.app).get(earlyLink)).status).toBe(200);
    const confirmed = await request(t.app).post(earlyLink).type('form').send('');
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toMatch(/Velkommen/);
    expect((await t.c.members.get(earlyId)).status).toBe('active');

    now = new Date(t0.getTime() + 72 * HOUR + 60_000);
    const page = await request(t.app).get(lateLink);
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/Lenken virker ikke/);
    expect((await request(t.app).post(lateLink).type('form').send('')).status).toBe(400);
    expect((await t.c.members.get(lateId)).status).toBe('pending');
    expect((await t.c.members.consentHistory(lateId)).map((e) => e.type)).toEqual(['signup']);
  });

  it('GET /v1/members filters by status, source and email', async () => {
    now = new Date('2026-05-10T08:00:00.000Z');
    const tag = uniquePerson('filter').partnerId;
    const make = async (source: string, i: number) =>
      (await signUp(buildSignUp({ email: `filter.${tag}.${i}@example.no`, source, partnerId: tag }))).body
        .id as number;
    const web = [await make('web', 1), await make('web', 2)];
    const app = await make('osme-mobile', 3);
    const left = await make('web', 4);
    await request(t.app)
      .post(`/v1/members/${left}/unsubscribe`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ channel: 'app' });
    const list = async (query: string) => {
      const r = await request(t.app)
        .get(`/v1/members?partnerId=${tag}&${query}`)
        .set('authorization', `Bearer ${t.tokens.read}`);
      expect(r.status).toBe(200);
      return (r.body.items as Array<{ id: number }>).map((m) => m.id).sort((a, b) => a - b);
    };
    expect(await list('source=web')).toEqual(web);
    expect(await list('source=osme-mobile')).toEqual([app]);
    expect(await list('status=pending')).toEqual([...web, app].sort((a, b) => a - b));
    expect(await list('status=unsubscribed')).toEqual([]); // a member who left keeps no partner
    expect(await list(`email=${encodeURIComponent(` FILTER.${tag}.3@Example.no `)}`)).toEqual([app]);
    const unsubscribed = await request(t.app)
      .get('/v1/members?status=unsubscribed&limit=500')
      .set('authorization', `Bearer ${t.tokens.read}`);
    expect(unsubscribed.body.items.map((m: { id: number }) => m.id)).toContain(left);
    const bad = await request(t.app)
      .get('/v1/members?source=fax')
      .set('authorization', `Bearer ${t.tokens.read}`);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
  });
});
