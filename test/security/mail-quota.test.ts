import request from 'supertest';
import { buildContainer, type Container } from '../../src/container';
import { createApp } from '../../src/app';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { activeMember, uniquePerson, unsubscribePath } from '../privacy/helpers';

/** Issue #12, finding 2: nobody can make the service flood an address with mail. */
describe.each(databaseKinds())('transactional mail quotas on %s', (kind) => {
  let t: TestApp;
  let now = Date.parse('2026-12-01T09:00:00Z');
  const clock = () => new Date(now);
  const hours = (h: number) => (now += h * 3600_000);
  let other: Container | undefined;

  beforeAll(async () => {
    t = await startTestApp(kind, { clock });
  });
  afterAll(async () => {
    await other?.close();
    await t?.close();
  });

  const signUp = (email: string) =>
    request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp({ email }));
  const confirmations = (email: string) =>
    t.peer.mailsTo(email).filter((m) => /Bekreft medlemskapet/.test(String(m.parsed.subject)));
  const settle = async () => {
    await t.c.mailQueue.drain();
    await t.c.mailQueue.processDue();
  };
  const liveConfirmTokens = async (memberId: number) =>
    Number(
      (
        await t.c.dataSource.query(
          'SELECT COUNT(*) AS n FROM member_tokens WHERE member_id = ? AND purpose = ? AND used_at IS NULL',
          [memberId, 'confirm'],
        )
      )[0].n,
    );

  it('mails a pending address at most once a day and three times in all, however often it is signed up', async () => {
    const email = 'flom@example.no';
    const first = await signUp(email);
    expect(first.status).toBe(201);
    const id = first.body.id as number;
    await settle();
    for (let i = 0; i < 4; i++) {
      const again = await signUp(email);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id, status: 'pending' });
      await settle();
    }
    expect(confirmations(email)).toHaveLength(1);
    expect(await liveConfirmTokens(id)).toBe(1);

    hours(25);
    await signUp(email);
    await signUp(email);
    await settle();
    expect(confirmations(email)).toHaveLength(2);

    hours(25);
    await signUp(email);
    await settle();
    expect(confirmations(email)).toHaveLength(3);

    // Three in all: later days bring no more, and the sign-up still answers as the contract says.
    for (let day = 0; day < 3; day++) {
      hours(25);
      const late = await signUp(email);
      expect(late.status).toBe(200);
      expect(late.body).toMatchObject({ id, status: 'pending' });
      await settle();
    }
    expect(confirmations(email)).toHaveLength(3);
  });

  it('limits privacy-link mail in the database, so another process or a restart cannot reset it', async () => {
    const p = uniquePerson('lenke');
    const id = await activeMember(t, p);
    const links = () => t.peer.mailsTo(p.email).filter((m) => /\/p\//.test(String(m.parsed.text)));
    const ask = async (app = t.app) => {
      const r = await request(app)
        .post(`${unsubscribePath(t, id)}/privacy-link`)
        .type('form')
        .send('');
      await settle();
      return r;
    };
    for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200);
    expect(links()).toHaveLength(3);

    // A second process on the same database (its own in-memory per-link limiter is empty).
    other = buildContainer(t.config, { logger: t.c.logger, clock });
    await other.dataSource.initialize();
    const otherApp = createApp(other);
    const refused = await ask(otherApp);
    expect(refused.status).toBe(200);
    expect(refused.text).toContain('Lenken er allerede sendt');
    await other.mailQueue.drain();
    expect(links()).toHaveLength(3);

    hours(25);
    const nextDay = await ask(otherApp);
    expect(nextDay.text).toContain('Sjekk e-posten din');
    await other.mailQueue.drain();
    await t.peer.waitFor(() => links().length === 4, 10000);
  });

  it('forgets the counts with the member', async () => {
    const p = uniquePerson('glemt');
    const id = await activeMember(t, p);
    await request(t.app)
      .post(`${unsubscribePath(t, id)}/privacy-link`)
      .type('form')
      .send('');
    await settle();
    const count = async () =>
      Number(
        (await t.c.dataSource.query('SELECT COUNT(*) AS n FROM mail_quota WHERE member_id = ?', [id]))[0].n,
      );
    expect(await count()).toBeGreaterThan(0);
    await t.c.members.leave(id, 'app');
    expect(await count()).toBe(0);
  });
});
