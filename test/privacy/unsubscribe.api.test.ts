import jwt from 'jsonwebtoken';
import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { dumpAllTables, startTestApp, type TestApp } from '../support/test-app';
import { activeMember, linkFromMail, PRIVACY_RE, uniquePerson, unsubscribePath } from './helpers';

const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe.each(databaseKinds())('unsubscribe and privacy link on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const memberRow = async (id: number) => (await t.c.members.findMember(id))!;
  const history = (id: number) => t.c.members.consentHistory(id);

  describe('GET /u/:token', () => {
    it('shows the masked address and one plain form, no script, and changes nothing', async () => {
      const p = uniquePerson('visning');
      const id = await activeMember(t, p);
      const before = await dumpAllTables(t.c);
      const r = await request(t.app).get(unsubscribePath(t, id));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/html/);
      expect(r.text).toContain(`${p.email[0]}***@example.no`);
      expect(r.text).not.toContain(p.email);
      expect(r.text).not.toMatch(/<script|javascript:|onload=|http-equiv="refresh"/i);
      expect(r.text.match(/<form method="post" action="\/u\/[^"/]+"><button/g)).toHaveLength(1);
      expect(r.text).toMatch(/Se eller slett dine opplysninger/);
      expect(await dumpAllTables(t.c)).toBe(before);
      expect((await memberRow(id)).status).toBe('active');
    });
  });

  describe('POST /u/:token', () => {
    it('one-click (urlencoded) unsubscribes at once, 200 without redirect, leaving no trace of the person', async () => {
      const p = uniquePerson('enklikk');
      const id = await activeMember(t, p);
      const r = await request(t.app)
        .post(unsubscribePath(t, id))
        .type('form')
        .send('List-Unsubscribe=One-Click');
      expect(r.status).toBe(200);
      expect(r.headers.location).toBeUndefined();
      expect(r.text).toMatch(/Du er meldt av/);
      const m = await memberRow(id);
      expect(m).toMatchObject({
        status: 'unsubscribed',
        email: null,
        firstName: null,
        lastName: null,
        phone: null,
        externalId: null,
      });
      expect((await history(id)).at(-1)).toMatchObject({ type: 'withdrawal', channel: 'one-click' });
      const dump = await dumpAllTables(t.c);
      for (const value of Object.values(p)) expect(dump).not.toContain(value);
      expect(dump).toContain(t.c.suppression.hmac(p.email));
    });

    it('one-click as multipart works the same, without cookies or auth', async () => {
      const p = uniquePerson('multipart');
      const id = await activeMember(t, p);
      const r = await request(t.app).post(unsubscribePath(t, id)).field('List-Unsubscribe', 'One-Click');
      expect(r.status).toBe(200);
      expect(r.headers.location).toBeUndefined();
      expect((await memberRow(id)).status).toBe('unsubscribed');
      expect((await history(id)).at(-1)).toMatchObject({ type: 'withdrawal', channel: 'one-click' });
      const dump = await dumpAllTables(t.c);
      for (const value of Object.values(p)) expect(dump).not.toContain(value);
    });

    it('the page button records channel "link"; a second POST is harmless; GET then says you left', async () => {
      const p = uniquePerson('knapp');
      const id = await activeMember(t, p);
      const path = unsubscribePath(t, id);
      expect((await request(t.app).post(path).type('form').send('')).status).toBe(200);
      const events = await history(id);
      expect(events.at(-1)).toMatchObject({ type: 'withdrawal', channel: 'link' });
      const again = await request(t.app).post(path).type('form').send('List-Unsubscribe=One-Click');
      expect(again.status).toBe(200);
      expect(again.text).toMatch(/Du er meldt av/);
      expect(await history(id)).toHaveLength(events.length);
      const page = await request(t.app).get(path);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/Du er meldt av/);
      expect(page.text).not.toMatch(/<form/);
    });

    it('a member erased altogether still gets 200 «Du er meldt av»', async () => {
      const id = await activeMember(t, uniquePerson('borte'));
      await t.c.privacy.erase(id, 'staff');
      const r = await request(t.app)
        .post(unsubscribePath(t, id))
        .type('form')
        .send('List-Unsubscribe=One-Click');
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/Du er meldt av/);
    });

    it('accepts any body, even a huge or odd one', async () => {
      const id = await activeMember(t, uniquePerson('rar'));
      const r = await request(t.app)
        .post(unsubscribePath(t, id))
        .set('content-type', 'application/octet-stream')
        .send(Buffer.alloc(200_000, 1));
      expect(r.status).toBe(200);
      expect((await memberRow(id)).status).toBe('unsubscribed');
    });
  });

  describe('tampered tokens', () => {
    it('every forgery is a 400 page that changes nothing and reveals nothing', async () => {
      const p = uniquePerson('forfalsket');
      const id = await activeMember(t, p);
      const other = await activeMember(t, uniquePerson('offer'));
      const genuine = t.c.tokens.sign({ scope: 'unsubscribe', memberId: id });
      const [header, payload, signature] = genuine.split('.');
      const mid = Math.floor(signature.length / 2);
      const flipped =
        signature.slice(0, mid) + (signature[mid] === 'A' ? 'B' : 'A') + signature.slice(mid + 1);
      const forgeries: Record<string, string> = {
        'flipped signature char': `${header}.${payload}.${flipped}`,
        'payload names another member': `${header}.${b64({ s: 'u', m: other })}.${signature}`,
        'unknown kid': jwt.sign({ s: 'u', m: id }, SECRET, {
          algorithm: 'HS256',
          noTimestamp: true,
          header: { alg: 'HS256', kid: 'k9' },
        }),
        'signed with another key': jwt.sign({ s: 'u', m: id }, 'another-secret-0123456789abcdef0123456789', {
          algorithm: 'HS256',
          noTimestamp: true,
          header: { alg: 'HS256', kid: 'k1' },
        }),
        'wrong scope': jwt.sign({ s: 'confirm', m: id }, SECRET, {
          algorithm: 'HS256',
          noTimestamp: true,
          header: { alg: 'HS256', kid: 'k1' },
        }),
        'alg none': `${b64({ alg: 'none', kid: 'k1' })}.${payload}.`,
        garbage: 'not-a-token-at-all',
      };
      const before = await dumpAllTables(t.c);
      for (const [what, token] of Object.entries(forgeries)) {
        for (const r of [
          await request(t.app).get(`/u/${token}`),
          await request(t.app).post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click'),
          await request(t.app).post(`/u/${token}/privacy-link`).type('form').send(''),
        ]) {
          expect({ what, status: r.status }).toEqual({ what, status: 400 });
          expect(r.text).toMatch(/Lenken virker ikke/);
          expect(r.text).not.toContain('***@');
          expect(r.headers.location).toBeUndefined();
        }
      }
      expect(await dumpAllTables(t.c)).toBe(before);
      expect((await memberRow(id)).status).toBe('active');
      expect((await memberRow(other)).status).toBe('active');
    });
  });

  describe('privacy link', () => {
    it('end to end: mailed to the member only, shows everything, downloads JSON, erases after a confirmation step', async () => {
      const p = uniquePerson('innsyn');
      const id = await activeMember(t, p);
      const u = unsubscribePath(t, id);
      const asked = await request(t.app).post(`${u}/privacy-link`).type('form').send('');
      expect(asked.status).toBe(200);
      expect(asked.text).toMatch(/Vi har sendt en lenke til e-postadressen din/);
      expect((await memberRow(id)).status).toBe('active');

      const path = await linkFromMail(t, p.email, PRIVACY_RE);
      const mail = t.peer.mailsTo(p.email).at(-1)!;
      expect(mail.rcpt).toEqual([p.email]);
      expect(mail.parsed.headers.has('list-unsubscribe')).toBe(false);
      expect(mail.parsed.subject).toMatch(/opplysningene/i);
      expect(mail.parsed.text).toMatch(/24 timer/);

      // GET does not consume the link: a mail scanner may have fetched it first.
      for (let i = 0; i < 2; i++) {
        const page = await request(t.app).get(path);
        expect(page.status).toBe(200);
        expect(page.text).not.toMatch(/<script/i);
        for (const v of [p.email, p.firstName, p.lastName, p.phone, p.externalId, p.partnerId])
          expect(page.text).toContain(v);
        expect(page.text).toMatch(/Innmelding med samtykke/);
        expect(page.text).toMatch(/Bekreftet e-postadressen/);
        expect(page.text).toContain(`${path}/data.json`);
        expect(page.text).toMatch(/<form method="post" action="[^"]+\/erase">/);
      }

      const json = await request(t.app).get(`${path}/data.json`);
      expect(json.status).toBe(200);
      expect(json.headers['content-disposition']).toMatch(/^attachment; filename=".+\.json"$/);
      const doc = JSON.parse(json.text);
      expect(doc.member).toMatchObject({
        id,
        email: p.email,
        firstName: p.firstName,
        phone: p.phone,
        status: 'active',
      });
      expect(doc.consentEvents.map((e: { type: string }) => e.type).slice(0, 2)).toEqual([
        'signup',
        'confirmation',
      ]);
      expect(Array.isArray(doc.deliveries)).toBe(true);
      expect(
        (await history(id)).filter((e) => e.type === 'export').every((e) => e.channel === 'privacy-link'),
      ).toBe(true);

      // First POST only asks "are you sure?".
      const ask = await request(t.app).post(`${path}/erase`).type('form').send('');
      expect(ask.status).toBe(200);
      expect(ask.text).toMatch(/Er du sikker/);
      expect(ask.text).toMatch(/name="confirm" value="ja"/);
      expect(await t.c.members.findMember(id)).not.toBeNull();

      const erased = await request(t.app).post(`${path}/erase`).type('form').send('confirm=ja');
      expect(erased.status).toBe(200);
      expect(erased.text).toMatch(/slettet/);
      expect(await t.c.members.findMember(id)).toBeNull();
      const dump = await dumpAllTables(t.c);
      for (const value of Object.values(p)) expect(dump).not.toContain(value);
      expect(await t.c.suppression.isSuppressed(t.c.dataSource.manager, p.email)).toBe(true);

      // Used: refused everywhere.
      expect((await request(t.app).get(path)).status).toBe(400);
      expect((await request(t.app).get(`${path}/data.json`)).status).toBe(400);
      expect((await request(t.app).post(`${path}/erase`).type('form').send('confirm=ja')).status).toBe(400);
    });

    it('an expired privacy link is refused and changes nothing', async () => {
      const p = uniquePerson('utlopt');
      const id = await activeMember(t, p);
      await request(t.app)
        .post(`${unsubscribePath(t, id)}/privacy-link`)
        .type('form')
        .send('');
      const path = await linkFromMail(t, p.email, PRIVACY_RE);
      await t.c.dataSource.query(
        `UPDATE member_tokens SET expires_at = ? WHERE member_id = ? AND purpose = ?`,
        ['2000-01-01 00:00:00.000', id, 'privacy'],
      );
      expect((await request(t.app).get(path)).status).toBe(400);
      expect((await request(t.app).get(`${path}/data.json`)).status).toBe(400);
      const r = await request(t.app).post(`${path}/erase`).type('form').send('confirm=ja');
      expect(r.status).toBe(400);
      expect(r.text).toMatch(/Lenken virker ikke/);
      expect((await memberRow(id)).email).toBe(p.email);
    });

    it('an unsubscribe token is no privacy link, and a privacy link is no unsubscribe token', async () => {
      const p = uniquePerson('kryss');
      const id = await activeMember(t, p);
      const u = unsubscribePath(t, id);
      const unsubToken = u.slice('/u/'.length);
      expect((await request(t.app).get(`/p/${unsubToken}`)).status).toBe(400);
      expect((await request(t.app).get(`/p/${unsubToken}/data.json`)).status).toBe(400);
      expect(
        (await request(t.app).post(`/p/${unsubToken}/erase`).type('form').send('confirm=ja')).status,
      ).toBe(400);

      await request(t.app).post(`${u}/privacy-link`).type('form').send('');
      const privacyToken = (await linkFromMail(t, p.email, PRIVACY_RE)).slice('/p/'.length);
      expect((await request(t.app).get(`/u/${privacyToken}`)).status).toBe(400);
      expect(
        (await request(t.app).post(`/u/${privacyToken}`).type('form').send('List-Unsubscribe=One-Click'))
          .status,
      ).toBe(400);
      expect(
        (await request(t.app).post(`/u/${privacyToken}/privacy-link`).type('form').send('')).status,
      ).toBe(400);
      expect((await memberRow(id)).status).toBe('active');
      expect((await memberRow(id)).email).toBe(p.email);
    });

    it('after leaving there is no address to mail a link to, and an old link stops working', async () => {
      const p = uniquePerson('forlatt');
      const id = await activeMember(t, p);
      const u = unsubscribePath(t, id);
      await request(t.app).post(`${u}/privacy-link`).type('form').send('');
      const path = await linkFromMail(t, p.email, PRIVACY_RE);
      await request(t.app).post(u).type('form').send('List-Unsubscribe=One-Click');
      expect((await request(t.app).get(path)).status).toBe(400);
      const mailsBefore = t.peer.mails.length;
      const r = await request(t.app).post(`${u}/privacy-link`).type('form').send('');
      expect(r.status).toBe(200);
      expect(r.text).not.toMatch(/Vi har sendt en lenke/);
      await t.c.mailQueue.drain();
      expect(t.peer.mails.length).toBe(mailsBefore);
    });

    it('asking repeatedly is rate-limited per link, without looking at IPs', async () => {
      const p = uniquePerson('mange');
      const id = await activeMember(t, p);
      const u = unsubscribePath(t, id);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await request(t.app).post(`${u}/privacy-link`).type('form').send('')).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.slice(3)).toEqual([429, 429]);
    });
  });
});
