import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { linkFromMail, uniquePerson } from '../privacy/helpers';

const HOUR = 3600 * 1000;
const CONFIRM_RE = new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`);

/**
 * Issue #14 point 11: a confirmation link opened again after it did its work says that the
 * membership is already confirmed (not «Lenken virker ikke»), changes nothing, and stops saying
 * so once the link has expired or the member has left.
 */
describe.each(databaseKinds())('a confirmation link opened again on %s', (kind) => {
  let t: TestApp;
  let now = new Date('2026-06-01T08:00:00.000Z');
  beforeAll(async () => {
    t = await startTestApp(kind, { clock: () => now });
  });
  afterAll(async () => {
    await t?.close();
  });

  const signUp = (body: Record<string, unknown>) =>
    request(t.app).post('/v1/members').set('authorization', `Bearer ${t.tokens.app}`).send(body);
  const confirmations = async (id: number) =>
    (await t.c.members.consentHistory(id)).filter((e) => e.type === 'confirmation').length;

  it('says «already confirmed» on the page and after the button, and records nothing more', async () => {
    const p = uniquePerson('igjen');
    const id = (await signUp(buildSignUp(p))).body.id as number;
    const link = await linkFromMail(t, p.email, CONFIRM_RE);
    expect((await request(t.app).post(link).type('form').send('')).text).toMatch(/Velkommen/);
    expect((await t.c.members.get(id)).status).toBe('active');

    const page = await request(t.app).get(link);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Medlemskapet er allerede bekreftet');
    expect(page.text).not.toContain('Lenken virker ikke');
    expect(page.text).not.toContain('<form');
    const again = await request(t.app).post(link).type('form').send('');
    expect(again.status).toBe(200);
    expect(again.text).toContain('Medlemskapet er allerede bekreftet');
    expect(await confirmations(id)).toBe(1);

    // The daily clean-up keeps the used link until it expires, so the answer stays the same.
    await t.c.retention.run(now);
    expect((await request(t.app).get(link)).text).toContain('Medlemskapet er allerede bekreftet');

    // Past its 72 hours it is just an old link; the page still tells a member there is nothing to do.
    now = new Date(now.getTime() + 73 * HOUR);
    const old = await request(t.app).get(link);
    expect(old.status).toBe(400);
    expect(old.text).toContain('Lenken virker ikke');
    expect(old.text).toContain('Har du allerede bekreftet medlemskapet, trenger du ikke gjøre noe mer.');
  });

  it('an older confirmation mail, after a newer one was used, says «already confirmed» too', async () => {
    const p = uniquePerson('toganger');
    const id = (await signUp(buildSignUp(p))).body.id as number;
    const first = await linkFromMail(t, p.email, CONFIRM_RE);
    now = new Date(now.getTime() + 25 * HOUR);
    await signUp(buildSignUp(p));
    const second = await linkFromMail(t, p.email, CONFIRM_RE, 2);
    expect(second).not.toBe(first);
    await request(t.app).post(second).type('form').send('').expect(200);
    const older = await request(t.app).post(first).type('form').send('');
    expect([older.status, older.text.includes('Medlemskapet er allerede bekreftet')]).toEqual([200, true]);
    expect(await confirmations(id)).toBe(1);
  });

  it('a member who left or changed address gets the invalid-link page, not «already confirmed»', async () => {
    const p = uniquePerson('borte');
    const id = (await signUp(buildSignUp(p))).body.id as number;
    const link = await linkFromMail(t, p.email, CONFIRM_RE);
    await request(t.app).post(link).type('form').send('').expect(200);
    await request(t.app)
      .post(`/v1/members/${id}/unsubscribe`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ channel: 'app' })
      .expect(200);
    const gone = await request(t.app).get(link);
    expect([gone.status, gone.text.includes('Lenken virker ikke')]).toEqual([400, true]);

    const q = uniquePerson('flytter');
    const moved = (await signUp(buildSignUp(q))).body.id as number;
    const qLink = await linkFromMail(t, q.email, CONFIRM_RE);
    await request(t.app).post(qLink).type('form').send('').expect(200);
    await request(t.app)
      .patch(`/v1/members/${moved}`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ email: `ny.${q.email}` })
      .expect(200);
    expect((await request(t.app).get(qLink)).status).toBe(400);
  });
});
