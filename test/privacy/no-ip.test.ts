import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, dumpAllTables, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { linkFromMail, PRIVACY_RE, uniquePerson, unsubscribePath } from './helpers';

const CONFIRM_RE = new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`);
const IPV4 = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/;
const IPV6 = /2001:db8|::1\b|::ffff|fe80::/i;
const AGENT = 'SpyAgent/9.9 (Macintosh; Intel)';

/** The policy: «Webserveren sletter umiddelbart IP-adressene til besøkende». Nothing stores one. */
describe.each(databaseKinds())('no IP address and no user agent on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('through sign-up, confirmation, the unsubscribe page, the privacy link and erasure', async () => {
    const headers = (i: number) => ({
      'x-forwarded-for': i % 2 ? '203.0.113.77' : '2001:db8::77',
      'x-real-ip': '198.51.100.23',
      forwarded: 'for=192.0.2.60;proto=https',
      'user-agent': AGENT,
    });
    let i = 0;
    const get = (path: string) => request(t.app).get(path).set(headers(i++));
    const post = (path: string) => request(t.app).post(path).set(headers(i++)).type('form');

    const keep = uniquePerson('ipsjekk');
    const leave = uniquePerson('ipslutt');
    const ids: number[] = [];
    for (const p of [keep, leave]) {
      const r = await request(t.app)
        .post('/v1/members')
        .set('authorization', `Bearer ${t.tokens.app}`)
        .set(headers(i++))
        .send(buildSignUp(p));
      expect(r.status).toBe(201);
      const confirm = await linkFromMail(t, p.email, CONFIRM_RE);
      expect((await get(confirm)).status).toBe(200);
      expect((await post(confirm).send('')).status).toBe(200);
      ids.push(r.body.id);
    }

    const u = unsubscribePath(t, ids[0]);
    expect((await get(u)).status).toBe(200);
    expect((await post(`${u}/privacy-link`).send('')).status).toBe(200);
    const p = await linkFromMail(t, keep.email, PRIVACY_RE);
    expect((await get(p)).status).toBe(200);
    expect((await get(`${p}/data.json`)).status).toBe(200);
    expect((await post(`${p}/erase`).send('')).status).toBe(200);

    const u2 = unsubscribePath(t, ids[1]);
    expect((await get(u2)).status).toBe(200);
    expect((await post(u2).send('List-Unsubscribe=One-Click')).status).toBe(200);
    await request(t.app)
      .get(`/v1/members/${ids[1]}/export`)
      .set('authorization', `Bearer ${t.tokens.privacy}`)
      .set(headers(i++));
    await request(t.app)
      .post('/v1/privacy-requests')
      .set('authorization', `Bearer ${t.tokens.privacy}`)
      .set(headers(i++))
      .send({ type: 'access', email: keep.email, receivedAt: new Date().toISOString(), channel: 'email' });
    expect((await post(`${p}/erase`).send('confirm=ja')).status).toBe(200);
    await t.c.mailQueue.drain();

    const dump = await dumpAllTables(t.c);
    expect(dump).not.toMatch(IPV4);
    expect(dump).not.toMatch(IPV6);
    expect(dump).not.toMatch(/SpyAgent|Macintosh/);
    const logs = t.logs.join('\n');
    expect(logs).toMatch(/"route":"\/u\/:token"/);
    expect(logs).toMatch(/"route":"\/p\/:token"/);
    expect(logs).not.toMatch(/203\.0\.113\.77|198\.51\.100\.23|192\.0\.2\.60|127\.0\.0\.1/);
    expect(logs).not.toMatch(IPV6);
    expect(logs).not.toMatch(/SpyAgent|Macintosh/);
    // And no address, name or token in a log line.
    expect(logs).not.toContain(keep.email);
    expect(logs).not.toContain(keep.firstName);
    expect(logs).not.toContain(u.slice(3));
    expect(logs).not.toContain(p.slice(3));
  });
});
