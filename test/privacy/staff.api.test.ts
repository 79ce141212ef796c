import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, dumpAllTables, startTestApp, type TestApp } from '../support/test-app';
import { signUp, uniquePerson } from './helpers';

/** DOUBLE_OPT_IN=false: members are active at once, so a pending re-sign-up proves the suppression forced it. */
describe.each(databaseKinds())('staff privacy routes on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const member = async (person: Record<string, string>) => {
    const r = await signUp(t, buildSignUp(person));
    expect(r.body.status).toBe('active');
    return r.body.id as number;
  };
  const restrict = (id: number, restricted: unknown, token = t.tokens.privacy) =>
    request(t.app).post(`/v1/members/${id}/restrict`).set(as(token)).send({ restricted });

  describe('scopes', () => {
    it('needs `privacy` (or admin): 401 without a token, 403 with another scope', async () => {
      const id = await member(uniquePerson('scope'));
      expect((await request(t.app).get(`/v1/members/${id}/export`)).status).toBe(401);
      for (const token of [t.tokens.app, t.tokens.read, t.tokens.campaigns]) {
        expect((await request(t.app).get(`/v1/members/${id}/export`).set(as(token))).status).toBe(403);
        expect((await request(t.app).delete(`/v1/members/${id}`).set(as(token))).status).toBe(403);
        expect((await restrict(id, true, token)).status).toBe(403);
      }
      expect((await request(t.app).get(`/v1/members/${id}/export`).set(as(t.tokens.admin))).status).toBe(200);
      expect((await t.c.members.get(id)).status).toBe('active');
    });

    it('the members routes still work beside them', async () => {
      const id = await member(uniquePerson('side'));
      expect((await request(t.app).get(`/v1/members/${id}`).set(as(t.tokens.read))).status).toBe(200);
      expect((await request(t.app).get(`/v1/members/${id}/consents`).set(as(t.tokens.read))).status).toBe(
        200,
      );
    });
  });

  describe('export', () => {
    it('holds the profile, the consent history and every participant part, and is logged without personal data', async () => {
      const p = uniquePerson('eksport');
      const id = await member(p);
      await request(t.app).patch(`/v1/members/${id}`).set(as(t.tokens.app)).send({ lastName: 'Rettet' });
      await request(t.app)
        .post('/v1/privacy-requests')
        .set(as(t.tokens.privacy))
        .send({ type: 'access', email: p.email, receivedAt: new Date().toISOString(), channel: 'email' });
      const r = await request(t.app).get(`/v1/members/${id}/export`).set(as(t.tokens.privacy));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(Date.parse(r.body.exportedAt)).not.toBeNaN();
      expect(r.body.member).toMatchObject({
        id,
        email: p.email,
        firstName: p.firstName,
        lastName: 'Rettet',
        phone: p.phone,
        externalId: p.externalId,
        status: 'active',
      });
      expect(r.body.consentEvents.map((e: { type: string }) => e.type)).toEqual(['signup', 'rectification']);
      expect(r.body.consentEvents[0]).toMatchObject({
        source: 'osme-mobile',
        textVersion: 'kundeklubb-2024-05',
      });
      expect(Array.isArray(r.body.deliveries)).toBe(true);
      for (const part of t.c.members.participantsList)
        if (part.name && part.export) expect(r.body).toHaveProperty(part.name);
      expect(r.body.privacyRequests).toEqual([
        expect.objectContaining({ type: 'access', email: p.email, status: 'open' }),
      ]);

      const events = await t.c.members.consentHistory(id);
      expect(events.at(-1)).toMatchObject({
        type: 'export',
        channel: 'staff',
        source: null,
        textVersion: null,
        givenAt: null,
      });
    });

    it('404 for an unknown member', async () => {
      expect((await request(t.app).get('/v1/members/999999/export').set(as(t.tokens.privacy))).status).toBe(
        404,
      );
    });
  });

  describe('erasure', () => {
    it('leaves no trace but the suppression HMAC and anonymous events', async () => {
      const p = uniquePerson('slett');
      const id = await member(p);
      await request(t.app)
        .post('/v1/privacy-requests')
        .set(as(t.tokens.privacy))
        .send({
          type: 'erasure',
          email: p.email,
          receivedAt: new Date().toISOString(),
          channel: 'phone',
          note: `Ringte fra ${p.phone}`,
        });
      const eventsBefore = (await t.c.members.consentHistory(id)).length;
      const anonymousCount = async () =>
        Number(
          (await t.c.dataSource.query('SELECT COUNT(*) AS n FROM consent_events WHERE member_id IS NULL'))[0]
            .n,
        );
      const anonymousBefore = await anonymousCount();

      const r = await request(t.app).delete(`/v1/members/${id}`).set(as(t.tokens.privacy));
      expect(r.status).toBe(204);
      expect(r.text).toBe('');
      expect((await request(t.app).get(`/v1/members/${id}`).set(as(t.tokens.read))).status).toBe(404);

      const dump = await dumpAllTables(t.c);
      for (const value of Object.values(p)) expect(dump).not.toContain(value);
      const hmac = t.c.suppression.hmac(p.email);
      const [suppression] = await t.c.dataSource.query(
        'SELECT reason FROM suppressions WHERE email_hmac = ?',
        [hmac],
      );
      expect(suppression.reason).toBe('erased');
      // The request log keeps type and dates, linked by the HMAC, not the person.
      const [req] = await t.c.dataSource.query(
        'SELECT type, email, note FROM privacy_requests WHERE email_hmac = ?',
        [hmac],
      );
      expect(req).toMatchObject({ type: 'erasure', email: null, note: null });
      expect(
        await t.c.dataSource.query('SELECT 1 AS x FROM consent_events WHERE member_id = ?', [id]),
      ).toHaveLength(0);
      // The member's events stay as anonymous evidence, plus one 'erasure' event.
      expect(await anonymousCount()).toBe(anonymousBefore + eventsBefore + 1);
      const [last] = await t.c.dataSource.query(
        'SELECT member_id, type, channel FROM consent_events ORDER BY id DESC LIMIT 1',
      );
      expect(last).toMatchObject({ member_id: null, type: 'erasure', channel: 'staff' });

      expect((await request(t.app).delete(`/v1/members/${id}`).set(as(t.tokens.privacy))).status).toBe(404);
    });

    it('erases a member who had already left (the anonymous row goes too)', async () => {
      const id = await member(uniquePerson('forlot'));
      await t.c.members.leave(id, 'app');
      expect((await request(t.app).delete(`/v1/members/${id}`).set(as(t.tokens.privacy))).status).toBe(204);
      expect(await t.c.members.findMember(id)).toBeNull();
      expect(
        await t.c.dataSource.query('SELECT 1 AS x FROM consent_events WHERE member_id = ?', [id]),
      ).toHaveLength(0);
    });

    it('a re-sign-up after erasure starts over: pending, new consent, confirmation mailed', async () => {
      const p = uniquePerson('igjen');
      const id = await member(p);
      await t.c.privacy.erase(id, 'staff');
      const again = await signUp(t, buildSignUp({ ...p, consent: { textVersion: 'kundeklubb-2024-05' } }));
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(id);
      expect(again.body.status).toBe('pending');
      expect((await t.c.members.consentHistory(again.body.id)).map((e) => e.type)).toEqual(['signup']);
      await t.peer.waitFor(() => t.peer.mailsTo(p.email).length > 0, 10000);
      expect(t.peer.mailsTo(p.email).at(-1)!.parsed.subject).toMatch(/Bekreft/);
    });

    it('404 for an unknown or malformed id', async () => {
      expect((await request(t.app).delete('/v1/members/999999').set(as(t.tokens.privacy))).status).toBe(404);
      expect((await request(t.app).delete('/v1/members/abc').set(as(t.tokens.privacy))).status).toBe(404);
    });
  });

  describe('restriction', () => {
    it('survives a sign-up, and lifting restores the previous status', async () => {
      const p = uniquePerson('begrens');
      const id = await member(p);
      const r = await restrict(id, true);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id, status: 'restricted', email: p.email });

      const again = await signUp(t, buildSignUp({ email: p.email, source: 'cosmenor-partner' }));
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('restricted');
      expect((await t.c.members.get(id)).status).toBe('restricted');
      // Restricting twice changes nothing more.
      expect((await restrict(id, true)).body.status).toBe('restricted');

      const lifted = await restrict(id, false);
      expect(lifted.status).toBe(200);
      expect(lifted.body.status).toBe('active');
      const types = (await t.c.members.consentHistory(id)).map((e) => e.type);
      expect(types).toEqual(['signup', 'restriction', 'signup', 'restriction-lifted']);
      const [row] = await t.c.dataSource.query(
        'SELECT status_before_restriction AS b FROM members WHERE id = ?',
        [id],
      );
      expect(row.b).toBeNull();
    });

    it('a restricted pending member returns to pending', async () => {
      const id = await member(uniquePerson('venter'));
      await t.c.dataSource.query(`UPDATE members SET status = 'pending' WHERE id = ?`, [id]);
      expect((await restrict(id, true)).body.status).toBe('restricted');
      expect((await restrict(id, false)).body.status).toBe('pending');
    });

    it('validates the body and refuses a member who has left', async () => {
      const id = await member(uniquePerson('ugyldig'));
      expect((await restrict(id, 'yes')).status).toBe(422);
      const extra = await request(t.app)
        .post(`/v1/members/${id}/restrict`)
        .set(as(t.tokens.privacy))
        .send({ restricted: true, why: 'x' });
      expect(extra.status).toBe(400);
      expect((await restrict(999999, true)).status).toBe(404);
      await t.c.members.leave(id, 'app');
      const gone = await restrict(id, true);
      expect(gone.status).toBe(409);
      expect(gone.headers['content-type']).toMatch(/problem\+json/);
    });
  });
});
