import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, dumpAllTables, startTestApp, type TestApp } from '../support/test-app';
import { signUp, uniquePerson } from './helpers';

const DAY = 24 * 3600 * 1000;

describe.each(databaseKinds())('privacy request log on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const auth = () => ({ authorization: `Bearer ${t.tokens.privacy}` });
  const create = (body: Record<string, unknown>) =>
    request(t.app).post('/v1/privacy-requests').set(auth()).send(body);
  const patch = (id: number, body: Record<string, unknown>) =>
    request(t.app).patch(`/v1/privacy-requests/${id}`).set(auth()).send(body);
  const listOpen = async () =>
    (await request(t.app).get('/v1/privacy-requests?open=true').set(auth())).body.items as Array<
      Record<string, unknown>
    >;
  const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

  it('records a request with dueAt one calendar month later, the address normalised', async () => {
    const r = await create({
      type: 'access',
      email: '  Per.Hansen@Example.NO ',
      receivedAt: '2026-01-31T09:15:00+01:00',
      channel: 'email',
      note: 'Ba om kopi',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      type: 'access',
      email: 'per.hansen@example.no',
      receivedAt: '2026-01-31T08:15:00.000Z',
      dueAt: '2026-02-28T08:15:00.000Z',
      channel: 'email',
      note: 'Ba om kopi',
      status: 'open',
      closedAt: null,
      memberId: null,
    });
    const [row] = await t.c.dataSource.query('SELECT email_hmac FROM privacy_requests WHERE id = ?', [
      r.body.id,
    ]);
    expect(row.email_hmac).toBe(t.c.suppression.hmac('per.hansen@example.no'));
    const leap = await create({
      type: 'portability',
      email: 'skudd@example.no',
      receivedAt: '2024-01-31T12:00:00Z',
      channel: 'letter',
    });
    expect(leap.body.dueAt).toBe('2024-02-29T12:00:00.000Z');
  });

  it('validates: unknown type or field, bad address, future receivedAt', async () => {
    const ok = { type: 'erasure', email: 'x@example.no', receivedAt: daysAgo(1), channel: 'phone' };
    expect((await create({ ...ok, type: 'wish' })).status).toBe(422);
    expect((await create({ ...ok, email: 'nope' })).status).toBe(422);
    expect((await create({ ...ok, receivedAt: 'yesterday' })).status).toBe(422);
    expect((await create({ ...ok, receivedAt: new Date(Date.now() + 2 * DAY).toISOString() })).status).toBe(
      422,
    );
    const unknown = await create({ ...ok, priority: 'high' });
    expect(unknown.status).toBe(400);
    expect(unknown.headers['content-type']).toMatch(/problem\+json/);
    expect(
      (
        await request(t.app)
          .post('/v1/privacy-requests')
          .set('authorization', `Bearer ${t.tokens.app}`)
          .send(ok)
      ).status,
    ).toBe(403);
  });

  it('lists open requests overdue first, then by due date, linking current members', async () => {
    const p = uniquePerson('logg');
    const { body: m } = await signUp(t, buildSignUp(p));
    const recent = (
      await create({ type: 'access', email: p.email, receivedAt: daysAgo(2), channel: 'email' })
    ).body;
    const veryLate = (
      await create({ type: 'objection', email: 'sen@example.no', receivedAt: daysAgo(70), channel: 'phone' })
    ).body;
    const late = (
      await create({
        type: 'rectification',
        email: 'litt.sen@example.no',
        receivedAt: daysAgo(35),
        channel: 'email',
      })
    ).body;
    const closed = (
      await create({
        type: 'complaint',
        email: 'lukket@example.no',
        receivedAt: daysAgo(90),
        channel: 'email',
      })
    ).body;
    expect((await patch(closed.id, { status: 'done', outcome: 'answered' })).status).toBe(200);

    const items = await listOpen();
    const ids = items.map((i) => i.id);
    expect(ids).not.toContain(closed.id);
    expect(ids.indexOf(veryLate.id)).toBeLessThan(ids.indexOf(late.id));
    expect(ids.indexOf(late.id)).toBeLessThan(ids.indexOf(recent.id));
    const byId = new Map(items.map((i) => [i.id, i]));
    expect(byId.get(veryLate.id)).toMatchObject({ overdue: true, memberId: null });
    expect(byId.get(late.id)).toMatchObject({ overdue: true });
    expect(byId.get(recent.id)).toMatchObject({ overdue: false, memberId: m.id });
    const firstNotOverdue = items.findIndex((i) => !i.overdue);
    expect(items.slice(firstNotOverdue).every((i) => !i.overdue)).toBe(true);
    const dues = items.map((i) => Date.parse(String(i.dueAt)));
    expect([...dues].sort((a, b) => a - b)).toEqual(dues);

    const all = (await request(t.app).get('/v1/privacy-requests').set(auth())).body.items as Array<{
      id: number;
    }>;
    expect(all.map((i) => i.id)).toContain(closed.id);
    expect((await request(t.app).get('/v1/privacy-requests?open=maybe').set(auth())).status).toBe(400);
  });

  it('closes a request with a note and outcome; 404 for an unknown one', async () => {
    const r = (
      await create({ type: 'access', email: 'lukk@example.no', receivedAt: daysAgo(3), channel: 'email' })
    ).body;
    const done = await patch(r.id, { status: 'done', note: 'Sendt kopi', outcome: 'export sent' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      status: 'done',
      note: 'Sendt kopi',
      outcome: 'export sent',
      overdue: false,
    });
    expect(Date.parse(done.body.closedAt)).not.toBeNaN();
    expect((await listOpen()).map((i) => i.id)).not.toContain(r.id);
    expect((await patch(999999, { status: 'done' })).status).toBe(404);
    expect((await patch(r.id, { status: 'open' })).status).toBe(422);
    expect((await patch(r.id, { colour: 'red' })).status).toBe(400);
  });

  it('closing an erasure request with erase: true erases the member with that address', async () => {
    const p = uniquePerson('lukkslett');
    const { body: m } = await signUp(t, buildSignUp(p));
    const r = (
      await create({
        type: 'erasure',
        email: p.email,
        receivedAt: daysAgo(1),
        channel: 'email',
        note: 'Vil slettes',
      })
    ).body;
    expect(r.memberId).toBe(m.id);

    const access = (
      await create({ type: 'access', email: p.email, receivedAt: daysAgo(1), channel: 'email' })
    ).body;
    const refused = await patch(access.id, { status: 'done', erase: true });
    expect(refused.status).toBe(422);
    expect((await patch(r.id, { erase: true })).status).toBe(422);
    expect(await t.c.members.findMember(m.id)).not.toBeNull();

    const done = await patch(r.id, { status: 'done', erase: true });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'done', email: null, outcome: 'erased', memberId: null });
    expect(await t.c.members.findMember(m.id)).toBeNull();
    const dump = await dumpAllTables(t.c);
    for (const value of Object.values(p)) expect(dump).not.toContain(value);
    expect(await t.c.suppression.isSuppressed(t.c.dataSource.manager, p.email)).toBe(true);
    // Both of the person's requests stay as evidence, linked by the HMAC.
    const rows = await t.c.dataSource.query('SELECT id FROM privacy_requests WHERE email_hmac = ?', [
      t.c.suppression.hmac(p.email),
    ]);
    expect(rows.map((x: { id: number }) => Number(x.id)).sort()).toEqual([r.id, access.id].sort());
  });

  it('leaving also takes the address out of the log', async () => {
    const p = uniquePerson('loggut');
    const { body: m } = await signUp(t, buildSignUp(p));
    const r = (
      await create({
        type: 'objection',
        email: p.email,
        receivedAt: daysAgo(1),
        channel: 'phone',
        note: 'Ønsker ikke tilbud',
      })
    ).body;
    await request(t.app)
      .post(`/u/${t.c.tokens.sign({ scope: 'unsubscribe', memberId: m.id })}`)
      .type('form')
      .send('List-Unsubscribe=One-Click');
    const after = (await request(t.app).get(`/v1/privacy-requests/${r.id}`).set(auth())).body;
    expect(after).toMatchObject({
      email: null,
      status: 'open',
      type: 'objection',
      note: 'Ønsker ikke tilbud',
    });
    expect(await dumpAllTables(t.c)).not.toContain(p.email);
  });
});
