import request from 'supertest';
import { databaseKinds } from '../support/databases';
import {
  buildSignUp,
  dumpAllTables,
  linkIn,
  startTestApp,
  TEST_PUBLIC_URL,
  type TestApp,
} from '../support/test-app';

const CONFIRM_RE = new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`);

describe.each(databaseKinds())('members API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const signUp = (body: unknown, token = t.tokens.app) =>
    request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${token}`)
      .send(body as object);

  async function confirmationLinkFor(email: string): Promise<string> {
    await t.peer.waitFor(() => t.peer.mailsTo(email).length > 0, 10000);
    const mail = t.peer.mailsTo(email).at(-1)!;
    const link = linkIn(`${mail.parsed.html || ''}\n${mail.parsed.text || ''}`, CONFIRM_RE);
    expect(link).toBeTruthy();
    return link!.slice(TEST_PUBLIC_URL.length);
  }

  describe('auth', () => {
    it('refuses a missing or unknown token with 401 problem+json', async () => {
      const none = await request(t.app).post('/v1/members').send(buildSignUp());
      expect(none.status).toBe(401);
      expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
      const bad = await request(t.app)
        .get('/v1/members')
        .set('authorization', 'Bearer kk_not-a-real-token-at-all');
      expect(bad.status).toBe(401);
    });

    it('refuses a valid token without the scope with 403', async () => {
      const r = await signUp(buildSignUp(), t.tokens.campaigns);
      expect(r.status).toBe(403);
      expect(r.body.title).toBe('Forbidden');
      const read = await signUp(buildSignUp(), t.tokens.read);
      expect(read.status).toBe(403);
    });

    it('stops accepting a revoked token', async () => {
      const token = await t.c.clients.create('short-lived', ['members:read']);
      expect((await request(t.app).get('/v1/members').set('authorization', `Bearer ${token}`)).status).toBe(
        200,
      );
      await t.c.clients.revoke('short-lived');
      expect((await request(t.app).get('/v1/members').set('authorization', `Bearer ${token}`)).status).toBe(
        401,
      );
    });
  });

  describe('bad input loses nothing', () => {
    it('422 without consent, with the field path', async () => {
      const body = buildSignUp();
      delete body.consent;
      const r = await signUp(body);
      expect(r.status).toBe(422);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toContain('consent');
      expect((await t.c.members.list({ limit: 500, email: body.email as string })).items).toHaveLength(0);
    });

    it('422 for an unknown consent text version', async () => {
      const r = await signUp(buildSignUp({ consent: { textVersion: 'made-up-1999' } }));
      expect(r.status).toBe(422);
      expect(r.body.errors[0].path).toBe('consent.textVersion');
    });

    it('400 on unknown fields, naming them', async () => {
      const r = await signUp(buildSignUp({ isAdmin: true }));
      expect(r.status).toBe(400);
      expect(r.body.errors[0].message).toMatch(/isAdmin/);
    });

    it('400 on malformed JSON, never a stack trace', async () => {
      const r = await request(t.app)
        .post('/v1/members')
        .set('authorization', `Bearer ${t.tokens.app}`)
        .set('content-type', 'application/json')
        .send('{"email": ');
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
      expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/);
    });

    it('rejects a bad address and an unknown source', async () => {
      expect((await signUp(buildSignUp({ email: 'not-an-email' }))).status).toBe(422);
      expect((await signUp(buildSignUp({ source: 'fax' }))).status).toBe(422);
    });
  });

  describe('sign-up', () => {
    it('normalises the address and is idempotent', async () => {
      const first = await signUp(buildSignUp({ email: '  Ola.Hansen@Example.NO ' }));
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        email: 'ola.hansen@example.no',
        status: 'pending',
        source: 'osme-mobile',
      });
      const again = await signUp(buildSignUp({ email: 'ola.hansen@example.no', source: 'cosmenor-partner' }));
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      const history = await t.c.members.consentHistory(first.body.id);
      expect(history.filter((e) => e.type === 'signup')).toHaveLength(2);
      expect(history[1].source).toBe('cosmenor-partner');
    });

    it('two concurrent identical sign-ups make one member', async () => {
      const body = buildSignUp();
      const rs = await Promise.all([signUp(body), signUp(body), signUp(body)]);
      expect(rs.map((r) => r.status).sort()).toEqual([200, 200, 201]);
      expect(new Set(rs.map((r) => r.body.id)).size).toBe(1);
      expect((await t.c.members.list({ limit: 500, email: body.email as string })).items).toHaveLength(1);
    });

    it('records consent with text version and the SHA-256 of the text', async () => {
      const r = await signUp(buildSignUp());
      const [event] = await t.c.members.consentHistory(r.body.id);
      expect(event).toMatchObject({
        type: 'signup',
        source: 'osme-mobile',
        sourceVersion: '4.2.0',
        textVersion: 'kundeklubb-2024-05',
      });
      expect(event.textSha256).toBe(t.c.consentTexts.get('kundeklubb-2024-05')!.sha256);
      expect(event.givenAt).toBe('2026-11-25T10:00:00.000Z');
    });

    it('does not log the address, the name or the phone', async () => {
      const before = t.logs.length;
      const body = buildSignUp({
        email: 'privat.person@example.no',
        firstName: 'Hemmelig',
        phone: '+4799887766',
      });
      expect((await signUp(body)).status).toBe(201);
      await t.peer.waitFor(() => t.peer.mailsTo('privat.person@example.no').length > 0, 10000);
      const lines = t.logs.slice(before).join('\n');
      expect(lines).toMatch(/sign-up/);
      expect(lines).not.toMatch(/privat\.person|example\.no|Hemmelig|99887766/);
    });
  });

  describe('double opt-in', () => {
    it('mails a neutral Norwegian confirmation; GET changes nothing; POST activates once', async () => {
      const body = buildSignUp();
      const created = await signUp(body);
      const path = await confirmationLinkFor(body.email as string);
      const mail = t.peer.mailsTo(body.email as string).at(-1)!;
      expect(mail.parsed.headers.has('list-unsubscribe')).toBe(false);
      expect(mail.parsed.subject).toMatch(/Bekreft/);
      expect(mail.parsed.text).toMatch(/Cosmenor AS/);

      const page = await request(t.app).get(path);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<form method="post"/);
      expect(page.text).not.toMatch(/<script/);
      expect((await t.c.members.get(created.body.id)).status).toBe('pending');

      const post = await request(t.app).post(path).type('form').send('');
      expect(post.status).toBe(200);
      expect(post.text).toMatch(/Velkommen/);
      expect((await t.c.members.get(created.body.id)).status).toBe('active');
      const history = await t.c.members.consentHistory(created.body.id);
      expect(history.map((e) => e.type)).toEqual(['signup', 'confirmation']);
      expect(history[1].textVersion).toBe('kundeklubb-2024-05');

      // Used up: opened again it says so (issue #14), and changes nothing.
      const second = await request(t.app).post(path);
      expect(second.status).toBe(200);
      expect(second.text).toContain('Medlemskapet er allerede bekreftet');
      expect((await t.c.members.get(created.body.id)).status).toBe('active');
      expect((await t.c.members.consentHistory(created.body.id)).length).toBe(2);
    });

    it('confirming while restricted records the consent; the restriction stands, and lifting it makes the member active', async () => {
      const body = buildSignUp();
      const created = await signUp(body);
      const path = await confirmationLinkFor(body.email as string);
      const restrict = (restricted: boolean) =>
        request(t.app)
          .post(`/v1/members/${created.body.id}/restrict`)
          .set('authorization', `Bearer ${t.tokens.privacy}`)
          .send({ restricted });
      expect((await restrict(true)).body.status).toBe('restricted');

      const post = await request(t.app).post(path).type('form').send('');
      expect(post.status).toBe(200);
      expect(post.text).toMatch(/Velkommen/);
      expect((await t.c.members.get(created.body.id)).status).toBe('restricted');
      const history = await t.c.members.consentHistory(created.body.id);
      expect(history.map((e) => e.type)).toEqual(['signup', 'restriction', 'confirmation']);
      // Single-use as always: a second POST records nothing, it only says it is done.
      expect((await request(t.app).post(path)).text).toContain('Medlemskapet er allerede bekreftet');
      expect((await t.c.members.consentHistory(created.body.id)).length).toBe(3);

      expect((await restrict(false)).body.status).toBe('active');
    });

    it('an expired token does nothing', async () => {
      const body = buildSignUp();
      const created = await signUp(body);
      const path = await confirmationLinkFor(body.email as string);
      await t.c.dataSource.query(
        `UPDATE member_tokens SET expires_at = '2000-01-01 00:00:00.000' WHERE member_id = ?`,
        [created.body.id],
      );
      expect((await request(t.app).get(path)).status).toBe(400);
      expect((await request(t.app).post(path)).status).toBe(400);
      expect((await t.c.members.get(created.body.id)).status).toBe('pending');
    });

    it('a forged token does nothing', async () => {
      expect((await request(t.app).post('/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(400);
    });

    it('retries a confirmation mail that cannot be sent now', async () => {
      const body = buildSignUp();
      t.peer.behave(() => ({ code: 451, message: 'try later' }));
      try {
        const created = await signUp(body);
        await t.c.mailQueue.drain();
        const waiting = (await t.c.mailQueue.pending()).filter((p) => p.memberId === created.body.id);
        expect(waiting).toHaveLength(1);
        expect(waiting[0].attempts).toBe(1);
      } finally {
        t.peer.behave(null);
      }
      await t.c.dataSource.query(`UPDATE mail_outbox SET next_attempt_at = '2000-01-01 00:00:00.000'`);
      await t.c.mailQueue.processDue();
      expect(t.peer.mailsTo(body.email as string)).toHaveLength(1);
      expect(await t.c.mailQueue.pending()).toHaveLength(0);
    });
  });

  describe('read, rectify, leave', () => {
    it('lists with filters and cursor pagination', async () => {
      for (let i = 0; i < 5; i++)
        await signUp(buildSignUp({ source: 'cosmenor-partner', partnerId: 'salong-pag' }));
      const auth = { authorization: `Bearer ${t.tokens.read}` };
      const page1 = await request(t.app).get('/v1/members?partnerId=salong-pag&limit=3').set(auth);
      expect(page1.status).toBe(200);
      expect(page1.body.items).toHaveLength(3);
      const page2 = await request(t.app)
        .get(`/v1/members?partnerId=salong-pag&limit=3&cursor=${page1.body.nextCursor}`)
        .set(auth);
      expect(page2.body.items).toHaveLength(2);
      expect(page2.body.nextCursor).toBeNull();
      const ids = [...page1.body.items, ...page2.body.items].map((m: { id: number }) => m.id);
      expect(new Set(ids).size).toBe(5);
      expect((await request(t.app).get('/v1/members?status=nope').set(auth)).status).toBe(400);
    });

    it('rectifies names and phone', async () => {
      const created = await signUp(buildSignUp());
      const r = await request(t.app)
        .patch(`/v1/members/${created.body.id}`)
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send({ firstName: 'Karianne', phone: null });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ firstName: 'Karianne', phone: null, lastName: 'Nordmann' });
      // Korrigering is recorded: a rectification event appended to the history, naming no values.
      const history = await t.c.members.consentHistory(created.body.id);
      expect(history.map((e) => e.type)).toEqual(['signup', 'rectification']);
      expect(JSON.stringify(history[1])).not.toMatch(/Karianne|Kari\b/);
    });

    it('404 for unknown or malformed ids', async () => {
      const auth = { authorization: `Bearer ${t.tokens.read}` };
      expect((await request(t.app).get('/v1/members/999999').set(auth)).status).toBe(404);
      expect((await request(t.app).get('/v1/members/abc').set(auth)).status).toBe(404);
    });

    it('leaving ends processing: unsubscribed, profile erased, withdrawal appended', async () => {
      const body = buildSignUp({ email: 'slutter@example.no' });
      const created = await signUp(body);
      const r = await request(t.app)
        .post(`/v1/members/${created.body.id}/unsubscribe`)
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send({ channel: 'app' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'unsubscribed', email: null, firstName: null, phone: null });
      const history = await t.c.members.consentHistory(created.body.id);
      expect(history.at(-1)).toMatchObject({ type: 'withdrawal', channel: 'app' });
      // Append-only: the sign-up event is still there, unchanged.
      expect(history[0]).toMatchObject({ type: 'signup', textVersion: 'kundeklubb-2024-05' });
      const dump = await dumpAllTables(t.c);
      expect(dump).not.toMatch(/slutter@example\.no/);
      // Leaving again is harmless.
      const again = await request(t.app)
        .post(`/v1/members/${created.body.id}/unsubscribe`)
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send({ channel: 'phone' });
      expect(again.status).toBe(200);
      expect((await t.c.members.consentHistory(created.body.id)).length).toBe(history.length);
      expect(
        (
          await request(t.app)
            .post(`/v1/members/${created.body.id}/unsubscribe`)
            .set('authorization', `Bearer ${t.tokens.app}`)
            .send({ channel: 'fax' })
        ).status,
      ).toBe(422);
    });

    it('an address that left signs up again as a new, pending consent even without DOI', async () => {
      const body = buildSignUp({ email: 'tilbake@example.no' });
      const created = await signUp(body);
      await t.c.members.leave(created.body.id, 'app');
      const again = await signUp(body);
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(created.body.id);
      expect(again.body.status).toBe('pending');
    });
  });

  it('stores no IP address and no user agent anywhere', async () => {
    const body = buildSignUp({ email: 'ip.sjekk@example.no' });
    await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .set('x-forwarded-for', '203.0.113.77')
      .set('user-agent', 'SpyAgent/9.9')
      .send(body);
    const path = await confirmationLinkFor(body.email as string);
    await request(t.app).get(path).set('x-forwarded-for', '203.0.113.77').set('user-agent', 'SpyAgent/9.9');
    await request(t.app).post(path).set('x-forwarded-for', '2001:db8::77').set('user-agent', 'SpyAgent/9.9');
    const dump = await dumpAllTables(t.c);
    expect(dump).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    expect(dump).not.toMatch(/2001:db8|::1|::ffff/i);
    expect(dump).not.toMatch(/SpyAgent/);
    const logs = t.logs.join('\n');
    expect(logs).not.toMatch(/203\.0\.113\.77|2001:db8|127\.0\.0\.1|::ffff|SpyAgent/);
  });
});

describe('members without double opt-in', () => {
  it('activates at once when DOUBLE_OPT_IN=false and sends no confirmation', async () => {
    const t = await startTestApp('sqlite', { env: { DOUBLE_OPT_IN: 'false' } });
    try {
      const body = buildSignUp();
      const r = await request(t.app)
        .post('/v1/members')
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send(body);
      expect(r.status).toBe(201);
      expect(r.body.status).toBe('active');
      await t.c.mailQueue.drain();
      expect(t.peer.mails).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});
