import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { REQUEST_OUTCOMES } from '../../src/privacy/privacy-request.entity';
import { REQUEST_OUTCOME_LABELS } from '../../src/presentation/labels';
import { get, hiddenCsrf, login, post, staffUser, type Session } from './helpers';

/**
 * Issue #14 point 10: a privacy request's page carries the actions its type needs (export,
 * restriction, correction, erasure), each leading back to the request; closing needs an outcome
 * with a Norwegian name; staff correct a member's name, phone and salon through the members room.
 */
describe.each(databaseKinds())('privacy work on a request’s page on %s', (kind) => {
  let t: TestApp;
  let s: Session;

  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
    s = await login(t, await staffUser(t, 'privacy'));
  });
  afterAll(async () => {
    await t?.close();
  });

  let n = 0;
  async function member(fields: Record<string, unknown> = {}): Promise<{ id: number; email: string }> {
    const email = `person${++n}.${kind}@handling.example`;
    const r = await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(
        buildSignUp({ email, firstName: 'Kari', lastName: 'Nordmann', partnerId: 'salong-1', ...fields }),
      );
    expect(r.status).toBe(201);
    return { id: r.body.id as number, email };
  }

  async function registered(type: string, email: string): Promise<number> {
    const res = await post(t, s, '/admin/privacy/requests', {
      type,
      email,
      receivedAt: '2026-11-20T10:00',
      channel: 'email',
      note: '',
    });
    expect(res.status).toBe(303);
    return Number(/requests\/(\d+)\?/.exec(res.headers.location)![1]);
  }

  const memberEvents = async (id: number) =>
    (
      (await t.c.dataSource.query('SELECT type FROM member_events WHERE member_id = ? ORDER BY sequence', [
        id,
      ])) as Array<{
        type: string;
      }>
    ).map((r) => r.type);

  it('a rectification request: correct name, phone and salon on its page, recorded like PATCH, then close it', async () => {
    const m = await member({ phone: '+4791234567' });
    const rid = await registered('rectification', m.email);
    const page = await get(t, s, `/admin/privacy/requests/${rid}`);
    expect(page.text).toContain('Rett opplysningene slik personen ber om.');
    expect(page.text).toMatch(/<input type="text" id="f-firstName" name="firstName"[^>]* value="Kari">/);
    expect(page.text).toContain(`action="/admin/privacy/members/${m.id}/rectify"`);
    expect(page.text).toContain(`<input type="hidden" name="requestId" value="${rid}">`);

    // A bad phone number: said in Norwegian beside the field, nothing changed.
    const bad = await post(t, s, `/admin/privacy/members/${m.id}/rectify`, {
      requestId: String(rid),
      firstName: 'Kari',
      lastName: 'Nordmann',
      phone: 'ring meg',
      partnerId: 'salong-1',
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Telefon: Må være et telefonnummer, f.eks. +4791234567.');
    expect(bad.text).toContain('value="ring meg"');
    expect((await t.c.members.get(m.id)).phone).toBe('+4791234567');

    // Nothing typed differently: nothing to save.
    const same = await post(t, s, `/admin/privacy/members/${m.id}/rectify`, {
      requestId: String(rid),
      firstName: 'Kari',
      lastName: 'Nordmann',
      phone: '+4791234567',
      partnerId: 'salong-1',
    });
    expect(same.status).toBe(422);
    expect(same.text).toContain('Ingenting å endre.');

    const ok = await post(t, s, `/admin/privacy/members/${m.id}/rectify`, {
      requestId: String(rid),
      firstName: 'Karianne',
      lastName: 'Ødegård',
      phone: '',
      partnerId: 'salong-9',
    });
    expect([ok.status, ok.headers.location]).toEqual([303, `/admin/privacy/requests/${rid}?melding=rettet`]);
    expect(await t.c.members.get(m.id)).toMatchObject({
      firstName: 'Karianne',
      lastName: 'Ødegård',
      phone: null,
      partnerId: 'salong-9',
      email: m.email,
      status: 'active',
    });
    expect((await t.c.members.consentHistory(m.id)).map((e) => e.type)).toEqual(['signup', 'rectification']);
    expect(await memberEvents(m.id)).toEqual(['member.created', 'member.updated']);
    const back = await get(t, s, `/admin/privacy/requests/${rid}?melding=rettet`);
    expect(back.text).toContain('Opplysningene er rettet.');
    expect(back.text).toContain('Karianne Ødegård');
    // The search knows the new name at once.
    expect((await get(t, s, '/admin/members?q=odegard')).text).toContain(`href="/admin/members/${m.id}"`);

    // Closing needs an outcome; the log shows it by its Norwegian name.
    const noOutcome = await post(t, s, `/admin/privacy/requests/${rid}/close`, {
      outcome: '',
      note: 'Rettet navn',
    });
    expect(noOutcome.status).toBe(422);
    expect(noOutcome.text).toContain('Utfall: Velg et utfall.');
    expect(noOutcome.text).toContain('Rettet navn');
    expect((await t.c.privacyRequests.get(rid)).status).toBe('open');
    const forged = await post(t, s, `/admin/privacy/requests/${rid}/close`, { outcome: 'erased!!' });
    expect(forged.status).toBe(422);
    const closed = await post(t, s, `/admin/privacy/requests/${rid}/close`, {
      outcome: 'rectified',
      note: 'Rettet navn',
    });
    expect([closed.status, closed.headers.location]).toEqual([303, '/admin/privacy?melding=lukket']);
    expect(await t.c.privacyRequests.get(rid)).toMatchObject({
      status: 'done',
      outcome: 'rectified',
      note: 'Rettet navn',
    });
    const log = await get(t, s, '/admin/privacy');
    expect(log.text).toContain('<td>Opplysningene er rettet</td>');
    // Every outcome staff can choose has its Norwegian name in the list.
    for (const o of REQUEST_OUTCOMES)
      expect(page.text).toContain(`<option value="${o}">${REQUEST_OUTCOME_LABELS[o]}</option>`);
  });

  it('an access request offers the export; a restriction request restricts and comes back', async () => {
    const m = await member();
    const access = await registered('access', m.email);
    const accessPage = await get(t, s, `/admin/privacy/requests/${access}`);
    expect(accessPage.text).toContain(`action="/admin/privacy/members/${m.id}/export"`);
    expect(accessPage.text).not.toContain('/rectify"');
    const exported = await post(t, s, `/admin/privacy/members/${m.id}/export`);
    expect(exported.headers['content-disposition']).toMatch(/attachment/);
    expect(JSON.parse(exported.text).member.email).toBe(m.email);

    const restriction = await registered('restriction', m.email);
    const page = await get(t, s, `/admin/privacy/requests/${restriction}`);
    expect(page.text).toContain('Begrens behandlingen</button>');
    const res = await post(t, s, `/admin/privacy/members/${m.id}/restrict`, {
      restricted: 'true',
      requestId: String(restriction),
    });
    expect(res.headers.location).toBe(`/admin/privacy/requests/${restriction}?melding=begrenset`);
    expect((await t.c.members.get(m.id)).status).toBe('restricted');
    expect((await get(t, s, res.headers.location)).text).toContain('Opphev begrensningen</button>');
  });

  it('an erasure request erases from its page and shows the outcome in Norwegian; an objection’s erasure leads back', async () => {
    const m = await member();
    const rid = await registered('erasure', m.email);
    const confirm = await get(t, s, `/admin/privacy/requests/${rid}/erase`);
    expect(confirm.text).toContain(`href="/admin/privacy/requests/${rid}">Avbryt</a>`);
    await post(
      t,
      s,
      `/admin/privacy/requests/${rid}/erase`,
      { confirmEmail: m.email },
      hiddenCsrf(confirm.text),
    ).expect(303);
    expect(await t.c.members.findMember(m.id)).toBeNull();
    const page = await get(t, s, `/admin/privacy/requests/${rid}`);
    expect(page.text).toContain('<dt>Utfall</dt><dd>Slettet</dd>');
    expect(page.text).not.toMatch(/erased/);
    expect((await get(t, s, '/admin/privacy')).text).not.toMatch(/>erased</);

    // No member holds the address any more: the page says so and offers closing only.
    const again = await registered('erasure', m.email);
    const none = await get(t, s, `/admin/privacy/requests/${again}`);
    expect(none.text).toContain('Ingen medlem har denne adressen nå.');
    expect(none.text).not.toContain('/erase"');
    await post(t, s, `/admin/privacy/requests/${again}/close`, { outcome: 'no-member' }).expect(303);
    expect((await get(t, s, `/admin/privacy/requests/${again}`)).text).toContain(
      'Ingen opplysninger om personen',
    );

    const o = await member();
    const objection = await registered('objection', o.email);
    const objectionPage = await get(t, s, `/admin/privacy/requests/${objection}`);
    expect(objectionPage.text).toContain(`href="/admin/privacy/members/${o.id}/erase?request=${objection}"`);
    const objectionConfirm = await get(t, s, `/admin/privacy/members/${o.id}/erase?request=${objection}`);
    expect(objectionConfirm.text).toContain(`href="/admin/privacy/requests/${objection}">Avbryt</a>`);
  });

  it('corrects from the member page too, and only privacy staff may', async () => {
    const m = await member();
    const memberPage = await get(t, s, `/admin/members/${m.id}`);
    expect(memberPage.text).toContain(`href="/admin/privacy/members/${m.id}/rectify"`);
    const form = await get(t, s, `/admin/privacy/members/${m.id}/rectify`);
    expect(form.text).toContain(`href="/admin/members/${m.id}">Avbryt</a>`);
    const res = await post(t, s, `/admin/privacy/members/${m.id}/rectify`, {
      firstName: 'Kari',
      lastName: 'Nordmann-Li',
      phone: '+4791234567',
      partnerId: 'salong-1',
    });
    expect(res.headers.location).toBe(`/admin/members/${m.id}?melding=rettet`);
    expect((await t.c.members.get(m.id)).lastName).toBe('Nordmann-Li');

    const marketing = await login(t, await staffUser(t, 'marketing'));
    expect((await get(t, marketing, `/admin/privacy/members/${m.id}/rectify`)).status).toBe(403);
    const refused = await post(t, marketing, `/admin/privacy/members/${m.id}/rectify`, { lastName: 'X' });
    expect(refused.status).toBe(403);
    expect((await t.c.members.get(m.id)).lastName).toBe('Nordmann-Li');
    expect((await get(t, marketing, `/admin/members/${m.id}`)).text).not.toContain('/rectify"');
  });
});
