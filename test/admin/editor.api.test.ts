import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { buildCampaign } from '../support/factories';
import { createActiveMembers, createCampaign } from '../support/club';
import { toLocalInput } from '../../src/presentation/oslo-time';
import { get, login, post, staffUser, type Session } from './helpers';

/**
 * The campaign editor's server side (issue #14): https-only links, over-long text refused with a
 * Norwegian message, autosave and copy, dates that have passed on the send page, and the test
 * mail's greeting and unsubscribe link.
 */

const DAY = 24 * 3600 * 1000;

describe.each(databaseKinds())('campaign editor on %s', (kind) => {
  let t: TestApp;
  let s: Session;
  let staffEmail: string;

  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
    staffEmail = await staffUser(t, 'marketing');
    s = await login(t, staffEmail);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The editor's form for one news block, as the browser posts it. */
  const draft = (overrides: Record<string, string> = {}) => ({
    name: 'Januar',
    subject: 'Nytt år hos Sothys',
    'blocks.0.type': 'news',
    'blocks.0.title': 'Nytt serum',
    'blocks.0.body': 'Lett og fuktgivende.',
    'blocks.0.link.url': 'https://sothys.no/serum',
    'blocks.0.link.label': 'Les mer',
    op: 'save',
    ...overrides,
  });

  const campaignCount = async () => (await t.c.campaigns.list({ limit: 200 })).items.length;
  const idFrom = (location: string) => Number(/\/admin\/campaigns\/(\d+)\/edit/.exec(location)![1]);

  describe('links are https only (8)', () => {
    it('refuses an http:// link in the editor with the https message, and saves nothing', async () => {
      const before = await campaignCount();
      const res = await post(
        t,
        s,
        '/admin/campaigns/new',
        draft({ 'blocks.0.link.url': 'http://sothys.no/serum' }),
      );
      expect(res.status).toBe(422);
      expect(res.text).toContain(
        'href="#f-blocks-0-link-url">Blokk 1 – Lenkeadresse: Må være en fullstendig adresse som begynner med https://',
      );
      expect(await campaignCount()).toBe(before);
    });

    it('refuses http:// links and images through the API too, and accepts https://', async () => {
      const api = (body: object) =>
        request(t.app).post('/v1/campaigns').set('authorization', `Bearer ${t.tokens.campaigns}`).send(body);
      const base = buildCampaign();
      const [activity, news] = base.blocks as Array<Record<string, unknown>>;
      const refused = await api({
        ...base,
        blocks: [
          { ...activity, link: { url: 'http://sothys.no/kveld', label: 'Meld deg på' } },
          { ...news, imageUrl: 'http://sothys.no/serum.jpg' },
        ],
      });
      expect(refused.status).toBe(422);
      expect(refused.body.errors).toEqual([
        { path: 'blocks.0.link.url', message: 'must be an absolute https:// URL' },
        { path: 'blocks.1.imageUrl', message: 'must be an absolute https:// URL' },
      ]);
      expect((await api(base)).status).toBe(201);
    });
  });

  describe('over-long text is refused, not cut (6)', () => {
    it('keeps a 5,000-character title as typed and says how long it may be', async () => {
      const id = await createCampaign(t);
      const long = 'Lang tittel '.repeat(420).slice(0, 5000);
      const res = await post(t, s, `/admin/campaigns/${id}/edit`, draft({ 'blocks.0.title': long }));
      expect(res.status).toBe(422);
      expect(res.text).toContain('Blokk 1 – Tittel: Kan ha høyst 200 tegn.');
      // The whole text stays in the field, for the person to shorten.
      expect(res.text).toContain(`value="${long}"`);
      expect((await t.c.campaigns.get(id)).blocks[0].title).toBe('Hudpleiekveld i Oslo');
    });

    it('shows the limit of every limited field to the script (maxlength)', async () => {
      const res = await get(t, s, '/admin/campaigns/new');
      expect(res.text).toMatch(/name="name"[^>]* maxlength="200"/);
      expect(res.text).toMatch(/name="blocks\.__i__\.body"[^>]* maxlength="5000"/);
      expect(res.text).toMatch(/name="blocks\.__i__\.link\.label"[^>]* maxlength="80"/);
      expect(res.text).toMatch(/name="blocks\.__i__\.code"[^>]* maxlength="40"/);
    });
  });

  describe('autosave and copy (6)', () => {
    it('autosaves a valid form and answers when it was saved; an invalid one changes nothing', async () => {
      const id = await createCampaign(t);
      const saved = await post(
        t,
        s,
        `/admin/campaigns/${id}/edit`,
        draft({ op: 'autosave', 'blocks.0.title': 'Autolagret' }),
      ).set('Accept', 'application/json');
      expect(saved.status).toBe(200);
      expect(saved.body).toEqual({
        saved: true,
        id,
        editUrl: `/admin/campaigns/${id}/edit`,
        savedText: expect.stringMatching(/^Lagret kl\. \d{2}\.\d{2}$/),
      });
      expect((await t.c.campaigns.get(id)).blocks).toEqual([
        expect.objectContaining({ type: 'news', title: 'Autolagret' }),
      ]);

      const refused = await post(
        t,
        s,
        `/admin/campaigns/${id}/edit`,
        draft({ op: 'autosave', 'blocks.0.title': '' }),
      ).set('Accept', 'application/json');
      expect(refused.status).toBe(200);
      expect(refused.body).toEqual({
        saved: false,
        errors: [{ path: 'blocks.0.title', label: 'Blokk 1 – Tittel', message: 'Må fylles ut.' }],
      });
      expect((await t.c.campaigns.get(id)).blocks[0].title).toBe('Autolagret');
    });

    it('autosaving a new form creates the draft once, and says where it now lives', async () => {
      const before = await campaignCount();
      const res = await post(t, s, '/admin/campaigns/new', draft({ op: 'autosave', name: 'Ny autolagret' }));
      expect(res.body.saved).toBe(true);
      expect(res.body.editUrl).toBe(`/admin/campaigns/${res.body.id}/edit`);
      expect(await campaignCount()).toBe(before + 1);
      expect((await t.c.campaigns.get(res.body.id)).name).toBe('Ny autolagret');
    });

    it('«Lag kopi» of a campaign being sent opens a new draft with the same content', async () => {
      await createActiveMembers(t, 2, `kopi-${kind}`);
      const id = await createCampaign(t, { name: 'Desember' });
      const started = await request(t.app)
        .post(`/v1/campaigns/${id}/send`)
        .set('authorization', `Bearer ${t.tokens.campaigns}`)
        .send({});
      expect(started.status).toBeLessThan(300);
      const progress = await get(t, s, `/admin/campaigns/${id}`);
      expect(progress.text).toContain(`action="/admin/campaigns/${id}/copy"`);

      const res = await post(t, s, `/admin/campaigns/${id}/copy`);
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/\/edit\?melding=kopiert$/);
      const copyId = idFrom(res.headers.location);
      expect(copyId).not.toBe(id);
      const [original, copy] = await Promise.all([t.c.campaigns.get(id), t.c.campaigns.get(copyId)]);
      expect(copy).toMatchObject({ status: 'draft', name: 'Kopi av Desember', subject: original.subject });
      expect(copy.blocks).toEqual(original.blocks);
      expect(original.status).not.toBe('draft');
      const page = await get(t, s, res.headers.location);
      expect(page.text).toContain('Kopien er laget. Du redigerer nå kopien.');
      expect(page.text).toContain('value="Kopi av Desember"');
    });

    it('«Lag kopi» in the editor saves the draft first, then copies what was saved', async () => {
      const id = await createCampaign(t);
      const res = await post(
        t,
        s,
        `/admin/campaigns/${id}/edit`,
        draft({ op: 'copy', 'blocks.0.title': 'Endret før kopi' }),
      );
      expect(res.status).toBe(303);
      const copy = await t.c.campaigns.get(idFrom(res.headers.location));
      expect((await t.c.campaigns.get(id)).blocks[0].title).toBe('Endret før kopi');
      expect(copy.blocks[0].title).toBe('Endret før kopi');
      expect(copy.name).toBe('Kopi av Januar');
    });
  });

  describe('dates that have passed (3)', () => {
    const pastBlocks = [
      {
        type: 'activity',
        title: 'Nyttårskveld',
        startsAt: '2025-01-13T18:00:00+01:00',
        link: { url: 'https://sothys.no/kveld', label: 'Meld deg på' },
      },
      { type: 'offer', title: 'Julerabatt', code: 'JUL20', validUntil: '2025-12-24' },
    ];

    it('the editor warns beside a past activity time and an expired offer', async () => {
      const id = await createCampaign(t, { blocks: pastBlocks });
      const res = await get(t, s, `/admin/campaigns/${id}/edit`);
      expect(res.text).toMatch(
        /id="f-blocks-0-startsAt-warning"[^>]*>Tidspunktet har allerede vært\. Sjekk dato og år\.</,
      );
      expect(res.text).toMatch(
        /id="f-blocks-1-validUntil-warning"[^>]*>Datoen har allerede vært, så tilbudet er utløpt\. Sjekk dato og år\.</,
      );
      // The preview writes the year of a date in another year.
      expect(res.text).toContain('mandag 13. januar 2025 kl. 18.00');
      expect(res.text).toContain('Gjelder til 24. desember 2025');
    });

    it('the send page lists them with their year and sends only once the sender confirms', async () => {
      const id = await createCampaign(t, { blocks: pastBlocks });
      const page = await get(t, s, `/admin/campaigns/${id}/send`);
      expect(page.text).toContain('Datoer som har vært');
      expect(page.text).toContain('aktiviteten «Nyttårskveld»: mandag 13. januar 2025 kl. 18.00');
      expect(page.text).toContain('tilbudet «Julerabatt»: gjaldt til og med 24. desember 2025');

      const refused = await post(t, s, `/admin/campaigns/${id}/send`, { when: 'now' });
      expect(refused.status).toBe(422);
      expect(refused.text).toContain(
        'Datoer: Kryss av for at du vil sende med datoer som har vært, eller gå tilbake og rett datoene.',
      );
      expect((await t.c.campaigns.get(id)).status).toBe('draft');

      const sent = await post(t, s, `/admin/campaigns/${id}/send`, { when: 'now', confirmPast: 'yes' });
      expect(sent.status).toBe(303);
      expect((await t.c.campaigns.get(id)).status).not.toBe('draft');
    });

    it('asks too when the activity will have begun by the scheduled time', async () => {
      const startsAt = new Date(Date.now() + 2 * DAY);
      const id = await createCampaign(t, {
        blocks: [{ type: 'activity', title: 'Kveld om to dager', startsAt: startsAt.toISOString() }],
      });
      const page = await get(t, s, `/admin/campaigns/${id}/send`);
      expect(page.text).not.toContain('Datoer som har vært');
      const scheduledAt = toLocalInput(new Date(Date.now() + 3 * DAY));
      const refused = await post(t, s, `/admin/campaigns/${id}/send`, { when: 'later', scheduledAt });
      expect(refused.status).toBe(422);
      expect(refused.text).toContain('aktiviteten «Kveld om to dager»');
      expect((await t.c.campaigns.get(id)).status).toBe('draft');
      const ok = await post(t, s, `/admin/campaigns/${id}/send`, {
        when: 'later',
        scheduledAt: toLocalInput(new Date(Date.now() + DAY)),
      });
      expect(ok.status).toBe(303);
      expect((await t.c.campaigns.get(id)).status).toBe('scheduled');
    });

    it('the API sends such a campaign as before (CONTRACT §5 has no confirmation)', async () => {
      const id = await createCampaign(t, { blocks: pastBlocks });
      const res = await request(t.app)
        .post(`/v1/campaigns/${id}/send`)
        .set('authorization', `Bearer ${t.tokens.campaigns}`)
        .send({});
      expect(res.status).toBeLessThan(300);
      expect((await t.c.campaigns.get(id)).status).not.toBe('draft');
    });
  });

  describe('the test mail (9)', () => {
    it('greets as the preview does, and its unsubscribe link opens a test page that changes nothing', async () => {
      // The staff member is a club member too, with this very address.
      const [member] = await createActiveMembers(t, 1, `stab-${kind}`);
      const staff = await staffUser(t, 'marketing', member.email);
      const session = await login(t, staff);
      const id = await createCampaign(t);
      const memberBefore = await t.c.members.findMember(member.id);
      t.peer.clear();

      const res = await post(t, session, `/admin/campaigns/${id}/edit`, draft({ op: 'test' }));
      expect(res.status).toBe(303);
      await t.peer.waitFor((mails) => mails.length > 0);
      const [mail] = t.peer.mailsTo(member.email);
      const html = mail.parsed.html as string;
      const preview = (await get(t, session, `/admin/campaigns/${id}/edit`)).text;
      expect(html).toContain('Hei Kari,');
      expect(preview).toContain('Hei Kari,');
      expect(mail.parsed.text).toContain('Hei Kari,');

      const unsubscribe = /href="([^"]*\/u\/[^"]*)"/.exec(html)![1];
      expect(mail.raw).toContain(`List-Unsubscribe: <${unsubscribe}>`);
      const path = unsubscribe.slice(TEST_PUBLIC_URL.length);
      const opened = await request(t.app).get(path);
      expect(opened.status).toBe(200);
      expect(opened.text).toContain('Dette er en testlenke');
      expect(opened.text).toContain('Ingen er meldt av, og ingenting er endret.');
      expect(opened.text).not.toContain('Lenken virker ikke');
      // A mail client's one-click unsubscribe on the test mail changes nothing either.
      const oneClick = await request(t.app).post(path).type('form').send('List-Unsubscribe=One-Click');
      expect(oneClick.status).toBe(200);
      expect(oneClick.text).toContain('Dette er en testlenke');

      expect(await t.c.members.findMember(member.id)).toEqual(memberBefore);
      expect(memberBefore!.status).toBe('active');
    });
  });
});
