import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { activeMember, linkFromMail, signUp, uniquePerson, unsubscribePath } from '../privacy/helpers';
import type { MemberEventView } from '../../src/events/event-log';

const CONFIRM = /http:\/\/kundeklubb\.test\/c\/[A-Za-z0-9_-]+/;
const DAY = 24 * 3600 * 1000;

describe.each(databaseKinds())('member events on %s', (kind) => {
  let t: TestApp;
  let now = new Date();
  beforeAll(async () => {
    t = await startTestApp(kind, { clock: () => now });
  });
  afterAll(async () => {
    await t?.close();
  });

  const feed = async (after = 0, limit = 1000) => {
    const r = await request(t.app)
      .get(`/v1/events?after=${after}&limit=${limit}`)
      .set('authorization', `Bearer ${t.tokens.read}`);
    expect(r.status).toBe(200);
    return r.body as { events: MemberEventView[]; next: number };
  };
  const eventsOf = async (memberId: number) =>
    (await feed()).events.filter((e) => e.data.memberId === memberId);

  /** Exactly one new event of `type` for this member, with no address or name in it. */
  async function expectOneEvent(
    memberId: number,
    type: string,
    person: Record<string, string>,
    fields: Record<string, unknown>,
    before: number,
  ): Promise<MemberEventView> {
    const events = (await feed(before)).events.filter((e) => e.data.memberId === memberId);
    expect(events.map((e) => e.type)).toEqual([type]);
    const e = events[0];
    expect(e.data).toEqual({ memberId, source: 'osme-mobile', ...fields });
    const text = JSON.stringify(e);
    for (const k of ['email', 'firstName', 'lastName', 'phone', 'partnerId'])
      expect(text).not.toContain(person[k]);
    return e;
  }
  const last = async () => (await feed()).next;

  it('sign-up: member.created once (not again for a repeated sign-up)', async () => {
    const p = uniquePerson('created');
    const before = await last();
    const r = await signUp(t, buildSignUp(p));
    expect(r.status).toBe(201);
    await signUp(t, buildSignUp(p));
    await expectOneEvent(
      r.body.id,
      'member.created',
      p,
      { externalId: p.externalId, status: 'pending' },
      before,
    );
  });

  it('confirmation: member.confirmed', async () => {
    const p = uniquePerson('confirmed');
    const r = await signUp(t, buildSignUp(p));
    const path = await linkFromMail(t, p.email, CONFIRM);
    const before = await last();
    expect((await request(t.app).post(path).type('form').send('')).status).toBe(200);
    await expectOneEvent(
      r.body.id,
      'member.confirmed',
      p,
      { externalId: p.externalId, status: 'active' },
      before,
    );
  });

  it('PATCH, including a new address: member.updated', async () => {
    const p = uniquePerson('updated');
    const id = await activeMember(t, p);
    const before = await last();
    const newEmail = `new.${p.email}`;
    const r = await request(t.app)
      .patch(`/v1/members/${id}`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ firstName: 'Anne', email: newEmail });
    expect(r.status).toBe(200);
    const e = await expectOneEvent(
      id,
      'member.updated',
      p,
      { externalId: p.externalId, status: 'pending' },
      before,
    );
    expect(JSON.stringify(e)).not.toContain(newEmail);
    expect(JSON.stringify(e)).not.toContain('Anne');
  });

  it.each([
    ['link', 'one-click'],
    ['app', 'app'],
  ])('unsubscribe by %s: member.unsubscribed with the channel', async (how, channel) => {
    const p = uniquePerson(`left-${how}`);
    const id = await activeMember(t, p);
    const before = await last();
    if (how === 'link')
      expect(
        (await request(t.app).post(unsubscribePath(t, id)).type('form').send('List-Unsubscribe=One-Click'))
          .status,
      ).toBe(200);
    else
      expect(
        (
          await request(t.app)
            .post(`/v1/members/${id}/unsubscribe`)
            .set('authorization', `Bearer ${t.tokens.app}`)
            .send({ channel: 'app' })
        ).status,
      ).toBe(200);
    await expectOneEvent(
      id,
      'member.unsubscribed',
      p,
      { externalId: null, status: 'unsubscribed', channel },
      before,
    );
  });

  it('complaint: member.unsubscribed with channel complaint', async () => {
    const p = uniquePerson('complaint');
    const id = await activeMember(t, p);
    const before = await last();
    await t.c.dataSource.transaction((m) => t.c.members.leaveIn(m, id, 'complaint'));
    await expectOneEvent(
      id,
      'member.unsubscribed',
      p,
      { externalId: null, status: 'unsubscribed', channel: 'complaint' },
      before,
    );
  });

  it('bounce: member.bounced', async () => {
    const p = uniquePerson('bounced');
    const id = await activeMember(t, p);
    const before = await last();
    await t.c.dataSource.transaction(async (m) => {
      const member = await t.c.members.lockMember(m, id);
      expect(await t.c.members.markBounced(m, member!, '5.1.1')).toBe(true);
    });
    await expectOneEvent(id, 'member.bounced', p, { externalId: p.externalId, status: 'bounced' }, before);
  });

  it('restriction and its lifting: member.restricted, member.unrestricted', async () => {
    const p = uniquePerson('restricted');
    const id = await activeMember(t, p);
    const restrict = (restricted: boolean) =>
      request(t.app)
        .post(`/v1/members/${id}/restrict`)
        .set('authorization', `Bearer ${t.tokens.privacy}`)
        .send({ restricted });
    let before = await last();
    expect((await restrict(true)).status).toBe(200);
    await restrict(true);
    await expectOneEvent(
      id,
      'member.restricted',
      p,
      { externalId: p.externalId, status: 'restricted' },
      before,
    );
    before = await last();
    expect((await restrict(false)).status).toBe(200);
    await expectOneEvent(
      id,
      'member.unrestricted',
      p,
      { externalId: p.externalId, status: 'active' },
      before,
    );
  });

  it.each(['staff', 'privacy-link', 'bounce'] as const)('erasure (%s): member.erased', async (reason) => {
    const p = uniquePerson(`erased-${reason}`);
    const id = await activeMember(t, p);
    const before = await last();
    if (reason === 'staff')
      expect(
        (await request(t.app).delete(`/v1/members/${id}`).set('authorization', `Bearer ${t.tokens.privacy}`))
          .status,
      ).toBe(204);
    else await t.c.privacy.erase(id, reason);
    await expectOneEvent(
      id,
      'member.erased',
      p,
      { externalId: null, status: 'erased', channel: reason },
      before,
    );
    // The profile is gone, and with it the externalId of the member's earlier events.
    const all = await eventsOf(id);
    expect(all.length).toBeGreaterThan(2);
    expect(all.every((e) => e.data.externalId === null)).toBe(true);
  });

  it('retention of a stale pending sign-up: member.erased; events go after 30 days', async () => {
    const p = uniquePerson('stale');
    const r = await signUp(t, buildSignUp(p));
    const before = await last();
    await t.c.retention.run(new Date(now.getTime() + 15 * DAY));
    await expectOneEvent(
      r.body.id,
      'member.erased',
      p,
      { externalId: null, status: 'erased', channel: 'retention' },
      before,
    );
    expect((await eventsOf(r.body.id)).length).toBe(2);
    const counts = await t.c.retention.run(new Date(now.getTime() + 31 * DAY));
    expect(counts['member-events']).toBeGreaterThan(0);
    expect((await feed()).events).toEqual([]);
  });

  it('feed: in sequence order, `next` continues, bad parameters are 400, scope is members:read', async () => {
    now = new Date();
    for (let i = 0; i < 3; i++) await signUp(t, buildSignUp());
    const all = (await feed()).events;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seqs = all.map((e) => e.sequence);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const page1 = await feed(0, 2);
    expect(page1.events.map((e) => e.sequence)).toEqual(seqs.slice(0, 2));
    const page2 = await feed(page1.next, 1000);
    expect(page2.events.map((e) => e.sequence)).toEqual(seqs.slice(2));
    expect((await feed(seqs.at(-1)!)).next).toBe(seqs.at(-1));
    for (const q of ['after=abc', 'after=-1', 'limit=0', 'limit=100000', 'x=1']) {
      const r = await request(t.app).get(`/v1/events?${q}`).set('authorization', `Bearer ${t.tokens.read}`);
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(
      (await request(t.app).get('/v1/events').set('authorization', `Bearer ${t.tokens.campaigns}`)).status,
    ).toBe(403);
  });

  it('a poller following `next` while 12 writers change members misses no event (commit order)', async () => {
    now = new Date();
    const start = await last();
    const seen: number[] = [];
    let after = start;
    let writing = true;
    const poller = (async () => {
      while (writing) {
        const page = await feed(after, 1000);
        seen.push(...page.events.map((e) => e.sequence));
        after = page.next;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const ids = await Promise.all(
      Array.from({ length: 12 }, async () => (await signUp(t, buildSignUp())).body.id as number),
    );
    await Promise.all(
      ids.flatMap((id) => [
        request(t.app)
          .patch(`/v1/members/${id}`)
          .set('authorization', `Bearer ${t.tokens.app}`)
          .send({ firstName: 'Ola' }),
        request(t.app)
          .post(`/v1/members/${id}/restrict`)
          .set('authorization', `Bearer ${t.tokens.privacy}`)
          .send({ restricted: true }),
      ]),
    );
    writing = false;
    await poller;
    const rest = await feed(after, 1000);
    seen.push(...rest.events.map((e) => e.sequence));
    const all = (await feed(start, 1000)).events.map((e) => e.sequence);
    expect(all.length).toBe(36);
    // Every event once, in order: none committed behind a sequence the poller had already passed.
    expect(seen).toEqual(all);
    expect(all).toEqual(Array.from({ length: 36 }, (_v, i) => all[0] + i));
  });

  it('leaves, erasures and sign-ups at once: every one answers, each with its one event', async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => activeMember(t, uniquePerson('many'))));
    const start = await last();
    const results = await Promise.all([
      ...ids.map((id, i) =>
        i % 2
          ? request(t.app)
              .post(`/v1/members/${id}/unsubscribe`)
              .set('authorization', `Bearer ${t.tokens.app}`)
              .send({ channel: 'app' })
          : request(t.app).delete(`/v1/members/${id}`).set('authorization', `Bearer ${t.tokens.privacy}`),
      ),
      ...Array.from({ length: 5 }, () => signUp(t, buildSignUp())),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(
      [...Array(5).fill(200), ...Array(5).fill(201), ...Array(5).fill(204)].sort(),
    );
    const events = (await feed(start)).events;
    expect(events.length).toBe(15);
    for (const [i, id] of ids.entries())
      expect(events.filter((e) => e.data.memberId === id).map((e) => e.type)).toEqual([
        i % 2 ? 'member.unsubscribed' : 'member.erased',
      ]);
  });

  (kind === 'mysql' ? it : it.skip)(
    'a second writer gets its sequence only after the first one commits (MariaDB)',
    async () => {
      const data = { memberId: 1, externalId: null, source: 'osme-mobile', status: 'active' };
      const a = t.c.dataSource.createQueryRunner();
      await a.startTransaction();
      const seqA = await t.c.events.append(a.manager, 'member.updated', data);
      let seqB: number | null = null;
      const b = t.c.dataSource.transaction(async (m) => {
        seqB = await t.c.events.append(m, 'member.updated', data);
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(seqB).toBeNull();
      await a.commitTransaction();
      await a.release();
      await b;
      expect(seqB).toBe(seqA + 1);
    },
  );
});
