import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { MemberSearch1764073100000 } from '../../src/db/migrations/1764073100000-member-search';
import { get, hiddenCsrf, login, post, staffUser, type Session } from './helpers';

/**
 * Issue #14 point 5: the admin's member search finds part of a name or an address, whatever the
 * case and æ/ø/å, says how many it found, and forgets a member's words with the member.
 */
describe.each(databaseKinds())('member search in the admin on %s', (kind) => {
  let t: TestApp;
  let s: Session;

  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
    s = await login(t, await staffUser(t, 'privacy'));
  });
  afterAll(async () => {
    await t?.close();
  });

  async function member(fields: Record<string, unknown>): Promise<number> {
    const r = await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp(fields));
    expect(r.status).toBe(201);
    return r.body.id as number;
  }

  /** The members the list shows, the count it states, and the next page's link. */
  async function search(query: Record<string, string>) {
    const res = await get(t, s, `/admin/members?${new URLSearchParams(query).toString()}`);
    const ids = [...res.text.matchAll(/<th scope="row"><a href="\/admin\/members\/(\d+)">/g)].map((m) =>
      Number(m[1]),
    );
    const count = /id="treff">([^<]*)</.exec(res.text)?.[1] ?? null;
    const next = /href="\/admin\/members\?([^"]*)">Neste side/.exec(res.text)?.[1] ?? null;
    return { status: res.status, text: res.text, ids, count, next: next?.replace(/&amp;/g, '&') ?? null };
  }

  const tokenRows = async (memberId: number) =>
    Number(
      (
        await t.c.dataSource.query('SELECT COUNT(*) AS n FROM member_search_tokens WHERE member_id = ?', [
          memberId,
        ])
      )[0].n,
    );

  it('finds part of a name, several words together, whatever the case, æ, ø and å', async () => {
    const kari = await member({ email: 'k.n@navn.example', firstName: 'Kari', lastName: 'Nordmann' });
    const ola = await member({ email: 'o1@navn.example', firstName: 'Ola', lastName: 'Ødegård' });
    const anne = await member({ email: 'a1@navn.example', firstName: 'Anne-Marie', lastName: 'Odegaard' });
    const aerlig = await member({ email: 'e1@navn.example', firstName: 'Kåre', lastName: 'Ærlig' });

    expect((await search({ q: 'nordm' })).ids).toEqual([kari]);
    expect((await search({ q: 'NORDMANN' })).ids).toEqual([kari]);
    const odegard = await search({ q: 'odegard' });
    expect(odegard.ids).toEqual([ola, anne]);
    expect(odegard.count).toBe('2 treff');
    expect((await search({ q: 'ØDEG' })).ids).toEqual([ola, anne]);
    expect((await search({ q: 'ødegaard' })).ids).toEqual([ola, anne]);
    // Every word must start a word of the member: «ola ødeg» is one person, «marie» a part of a name.
    expect((await search({ q: 'ola ødeg' })).ids).toEqual([ola]);
    expect((await search({ q: 'marie' })).ids).toEqual([anne]);
    expect((await search({ q: 'kare aerlig' })).ids).toEqual([aerlig]);
    expect((await search({ q: 'Kåre Ærl' })).ids).toEqual([aerlig]);
    // The middle of a word is no start of one.
    expect((await search({ q: 'rdmann' })).ids).toEqual([]);
    const none = await search({ q: 'zzyzx' });
    expect([none.status, none.count]).toEqual([200, 'Ingen treff']);
    expect(none.text).toContain('Ingen medlemmer passer til søket.');
  });

  it('finds part of an address: the start, a part after a dot or @, the domain', async () => {
    const a = await member({
      email: 'ingrid.bakke@adresse.example',
      firstName: 'Ingrid',
      lastName: 'Hansen',
    });
    const b = await member({ email: 'per_bakken@adresse.example', firstName: 'Per', lastName: 'Hansen' });
    const c = await member({ email: 'ingrid@annet.example', firstName: 'Ingrid', lastName: 'Hansen' });

    expect((await search({ q: 'ingrid.ba' })).ids).toEqual([a]);
    expect((await search({ q: 'bakke' })).ids).toEqual([a, b]);
    expect((await search({ q: 'bakke@adr' })).ids).toEqual([a]);
    expect((await search({ q: 'per_b' })).ids).toEqual([b]);
    expect((await search({ q: 'adresse.example' })).ids).toEqual([a, b]);
    expect((await search({ q: 'INGRID@ANNET.EXAMPLE' })).ids).toEqual([c]);
    // The whole address still finds the member, with the count.
    const whole = await search({ q: 'ingrid.bakke@adresse.example' });
    expect([whole.ids, whole.count]).toEqual([[a], '1 treff']);
  });

  it('combines the words with the filters, counts all hits and pages through them', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 27; i++)
      ids.push(await member({ email: `side${i}@side.example`, firstName: 'Sidsel', lastName: `Sideby${i}` }));
    await request(t.app)
      .post(`/v1/members/${ids[3]}/unsubscribe`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ channel: 'app' })
      .expect(200);

    const first = await search({ q: 'sidsel' });
    expect(first.count).toBe('26 treff');
    expect(first.ids).toHaveLength(25);
    expect(first.next).not.toBeNull();
    const second = await search(Object.fromEntries(new URLSearchParams(first.next!)));
    expect([...first.ids, ...second.ids]).toEqual(ids.filter((id) => id !== ids[3]));
    expect(second.count).toBe('26 treff');

    await t.c.privacy.restrict(ids[5], true);
    const restricted = await search({ q: 'sidsel', status: 'restricted' });
    expect([restricted.ids, restricted.count]).toEqual([[ids[5]], '1 treff']);
    expect((await search({ q: 'sideby1', status: 'active' })).count).toBe('11 treff');
  });

  it('refuses a search without a word of two letters, in Norwegian', async () => {
    const res = await search({ q: 'å' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Skriv minst 2 bokstaver eller tall.');
    expect(res.text).not.toMatch(/must have|Invalid/);
  });

  it('follows rectification, and a member who leaves or is erased leaves no search words behind', async () => {
    const id = await member({ email: 'retting@ord.example', firstName: 'Gunn', lastName: 'Gammelnavn' });
    const leaver = await member({ email: 'slutter@ord.example', firstName: 'Gunn', lastName: 'Slutter' });
    expect((await search({ q: 'gammelnavn' })).ids).toEqual([id]);

    await request(t.app)
      .patch(`/v1/members/${id}`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ lastName: 'Nyenavn' })
      .expect(200);
    expect((await search({ q: 'gammelnavn' })).ids).toEqual([]);
    expect((await search({ q: 'nyenavn' })).ids).toEqual([id]);

    await request(t.app)
      .post(`/v1/members/${leaver}/unsubscribe`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ channel: 'app' })
      .expect(200);
    expect(await tokenRows(leaver)).toBe(0);

    expect(await tokenRows(id)).toBeGreaterThan(0);
    const confirm = await get(t, s, `/admin/privacy/members/${id}/erase`);
    await post(
      t,
      s,
      `/admin/privacy/members/${id}/erase`,
      { confirmEmail: 'retting@ord.example' },
      hiddenCsrf(confirm.text),
    ).expect(303);
    expect(await t.c.members.findMember(id)).toBeNull();
    expect(await tokenRows(id)).toBe(0);
    expect((await search({ q: 'gunn' })).ids).toEqual([]);
    // Not in anyone's export either: the words were the member's, and went with the member.
    const all = JSON.stringify(await t.c.dataSource.query('SELECT token FROM member_search_tokens'));
    expect(all).not.toMatch(/nyenavn|retting|slutter/);
  });

  it('the migration gives members that were there before it their words', async () => {
    const now = '2026-11-20 10:00:00.000';
    await t.c.dataSource.query(
      `INSERT INTO members (email, first_name, last_name, source, status, created_at, updated_at, confirmed_at)
       VALUES ('eldre@migrering.example', 'Åse', 'Førstegang', 'web', 'active', ?, ?, ?),
              (NULL, NULL, NULL, 'web', 'unsubscribed', ?, ?, ?)`,
      [now, now, now, now, now, now],
    );
    expect((await search({ q: 'forstegang' })).ids).toEqual([]);
    const runner = t.c.dataSource.createQueryRunner();
    try {
      const migration = new MemberSearch1764073100000();
      await migration.down(runner);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const found = await search({ q: 'ase forstegang' });
    expect(found.ids).toHaveLength(1);
    expect((await t.c.members.get(found.ids[0])).email).toBe('eldre@migrering.example');
    // Members from the earlier tests were indexed again too.
    expect((await search({ q: 'odegard' })).count).toBe('2 treff');
  });
});
