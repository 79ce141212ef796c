import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { buildCampaign } from '../support/factories';

const PREVIEW_UNSUBSCRIBE_URL = `${TEST_PUBLIC_URL}/u/forhandsvisning`;

describe.each(databaseKinds())('campaigns API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const auth = (token?: string) => `Bearer ${token ?? t.tokens.campaigns}`;
  const post = (path: string, body: unknown, token?: string) =>
    request(t.app)
      .post(`/v1/campaigns${path}`)
      .set('authorization', auth(token))
      .send(body as object);
  const patch = (path: string, body: unknown) =>
    request(t.app)
      .patch(`/v1/campaigns${path}`)
      .set('authorization', auth())
      .send(body as object);
  const get = (path: string, token?: string) =>
    request(t.app).get(`/v1/campaigns${path}`).set('authorization', auth(token));

  async function createCampaign(overrides: Record<string, unknown> = {}): Promise<number> {
    const r = await post('', buildCampaign(overrides));
    expect(r.status).toBe(201);
    return r.body.id as number;
  }

  async function previewOf(id: number, format: 'html' | 'text' = 'html'): Promise<string> {
    const r = await get(`/${id}/preview${format === 'text' ? '?format=text' : ''}`);
    expect(r.status).toBe(200);
    return r.text;
  }

  /** A preview's or test mail's link: through /r/, with the campaign's test marker. */
  const clickLink = (id: number, n: number) =>
    `${TEST_PUBLIC_URL}/r/${id}/${n}?test=${t.c.testLinks.marker(id)}`;

  async function redirectOf(link: string): Promise<string> {
    const r = await request(t.app).get(link.slice(TEST_PUBLIC_URL.length)).set('user-agent', 'Mozilla/5.0');
    expect(r.status).toBe(302);
    return r.headers.location;
  }

  async function countCampaigns(): Promise<number> {
    const [row] = await t.c.dataSource.query('SELECT COUNT(*) AS n FROM campaigns');
    return Number(row.n);
  }

  async function signUpMember(overrides: Record<string, unknown>): Promise<{ id: number; email: string }> {
    const r = await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp(overrides));
    expect(r.status).toBe(201);
    expect(r.body.status).toBe('active');
    return { id: r.body.id, email: r.body.email };
  }

  describe('auth', () => {
    it('needs the campaigns scope; admin passes too', async () => {
      expect((await get('')).status).toBe(200);
      expect((await get('', t.tokens.admin)).status).toBe(200);
      const app = await post('', buildCampaign(), t.tokens.app);
      expect(app.status).toBe(403);
      expect(app.headers['content-type']).toMatch(/application\/problem\+json/);
      expect((await request(t.app).get('/v1/campaigns')).status).toBe(401);
    });
  });

  describe('authoring', () => {
    it('creates a draft and returns it with the audience count', async () => {
      const r = await post('', buildCampaign({ audience: { sources: ['osme-mobile'], partnerIds: [] } }));
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        status: 'draft',
        name: 'Desember',
        subject: 'Julekalender hos Sothys',
        preheader: 'Tre nyheter og et tilbud',
        // An empty list does not filter, so it is not kept.
        audience: { sources: ['osme-mobile'] },
        scheduledAt: null,
        startedAt: null,
        finishedAt: null,
      });
      expect(r.body.id).toEqual(expect.any(Number));
      expect(r.body.recipients).toEqual(expect.any(Number));
      expect(r.body.blocks).toHaveLength(3);
      expect(r.body.blocks[2]).toEqual((buildCampaign().blocks as unknown[])[2]);
      expect(Date.parse(r.body.createdAt)).not.toBeNaN();

      const again = await get(`/${r.body.id}`);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(r.body);
    });

    it('defaults to every active member and no preheader', async () => {
      const r = await post('', buildCampaign({ preheader: undefined, audience: undefined }));
      expect(r.status).toBe(201);
      expect(r.body.audience).toBeNull();
      expect(r.body.preheader).toBeNull();
    });

    it('lists newest first and filters by status', async () => {
      const first = await createCampaign({ name: 'Liste 1' });
      const second = await createCampaign({ name: 'Liste 2' });
      await t.c.campaigns.setStatus(t.c.dataSource.manager, first, ['draft'], 'cancelled');

      const all = await get('');
      expect(all.status).toBe(200);
      const ids = all.body.items.map((c: { id: number }) => c.id);
      expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(first));
      expect([...ids].sort((a, b) => b - a)).toEqual(ids);

      const cancelled = await get('?status=cancelled');
      expect(cancelled.body.items.map((c: { id: number }) => c.id)).toContain(first);
      expect(cancelled.body.items.every((c: { status: string }) => c.status === 'cancelled')).toBe(true);
      const drafts = await get('?status=draft');
      expect(drafts.body.items.map((c: { id: number }) => c.id)).not.toContain(first);
      expect((await get('?status=finished')).status).toBe(400);

      const page = await get('?limit=1');
      expect(page.body.items).toHaveLength(1);
      const next = await get(`?limit=1&cursor=${page.body.nextCursor}`);
      expect(next.body.items[0].id).toBeLessThan(page.body.items[0].id);
    });

    it('changes a draft with PATCH and the preview shows the change', async () => {
      const id = await createCampaign();
      const r = await patch(`/${id}`, {
        subject: 'Nytt emne',
        preheader: null,
        blocks: [{ type: 'news', title: 'Bare én nyhet', body: 'Kort.' }],
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        id,
        status: 'draft',
        subject: 'Nytt emne',
        preheader: null,
        name: 'Desember',
      });
      expect(r.body.blocks).toEqual([{ type: 'news', title: 'Bare én nyhet', body: 'Kort.' }]);
      expect(Date.parse(r.body.updatedAt)).toBeGreaterThan(Date.parse(r.body.createdAt));
      const html = await previewOf(id);
      expect(html).toContain('Bare én nyhet');
      expect(html).not.toContain('Hudpleiekveld');
      expect((await get(`/${id}`)).body).toEqual(r.body);
    });

    it('refuses PATCH on a campaign that is no longer a draft with 409, and changes nothing', async () => {
      const id = await createCampaign();
      for (const status of ['scheduled', 'sending', 'paused', 'sent', 'cancelled'] as const) {
        await t.c.dataSource.query('UPDATE campaigns SET status = ? WHERE id = ?', ['draft', id]);
        expect(await t.c.campaigns.setStatus(t.c.dataSource.manager, id, ['draft'], status)).toBe(true);
        const r = await patch(`/${id}`, { subject: 'For sent' });
        expect(r.status).toBe(409);
        expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(r.body).toMatchObject({ status: 409, title: 'Conflict' });
        expect(r.body.detail).toContain(status);
      }
      expect((await get(`/${id}`)).body.subject).toBe('Julekalender hos Sothys');
      // setStatus is conditional: from a state not listed it changes nothing.
      expect(
        await t.c.campaigns.setStatus(t.c.dataSource.manager, id, ['draft', 'scheduled'], 'sending'),
      ).toBe(false);
      expect((await get(`/${id}`)).body.status).toBe('cancelled');
    });

    it('answers 404 problem+json for unknown ids', async () => {
      for (const path of ['/999999', '/999999/preview', '/abc', '/0']) {
        const r = await get(path);
        expect(r.status).toBe(404);
        expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      }
      expect((await patch('/999999', { name: 'x' })).status).toBe(404);
      expect((await post('/999999/test', { to: ['a@example.no'] })).status).toBe(404);
    });
  });

  describe('validation: nothing is saved', () => {
    let before: number;
    beforeEach(async () => {
      before = await countCampaigns();
    });
    afterEach(async () => {
      expect(await countCampaigns()).toBe(before);
    });

    const withBlocks = (...blocks: unknown[]) => buildCampaign({ blocks });

    it('refuses a javascript: link with 422 and the field path', async () => {
      const r = await post(
        '',
        withBlocks({ type: 'news', title: 'X', link: { url: 'javascript:alert(1)', label: 'Klikk' } }),
      );
      expect(r.status).toBe(422);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.body.errors).toEqual([{ path: 'blocks.0.link.url', message: expect.stringMatching(/http/) }]);
      const image = await post('', withBlocks({ type: 'news', title: 'X', imageUrl: 'javascript:alert(1)' }));
      expect(image.status).toBe(422);
      expect(image.body.errors[0].path).toBe('blocks.0.imageUrl');
    });

    it('refuses an unknown block type with 422', async () => {
      const r = await post(
        '',
        withBlocks({ type: 'news', title: 'OK' }, { type: 'poll', title: 'Hva liker du?' }),
      );
      expect(r.status).toBe(422);
      expect(r.body.errors[0].path).toBe('blocks.1.type');
    });

    it('refuses a start time in the wrong format with 422 at blocks.N.startsAt', async () => {
      const r = await post(
        '',
        withBlocks(
          { type: 'news', title: 'OK' },
          { type: 'activity', title: 'Kveld', startsAt: '03.12.2026 18:00' },
        ),
      );
      expect(r.status).toBe(422);
      expect(r.body.errors).toEqual([
        { path: 'blocks.1.startsAt', message: expect.stringContaining('ISO 8601') },
      ]);
    });

    it('refuses a missing title and a bad validUntil with their paths', async () => {
      const r = await post(
        '',
        withBlocks(
          { type: 'news', body: 'Uten tittel' },
          { type: 'offer', title: 'T', validUntil: '24.12.2026' },
        ),
      );
      expect(r.status).toBe(422);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual([
        'blocks.0.title',
        'blocks.1.validUntil',
      ]);
    });

    it('refuses unknown fields with 400, at the top, in a block and in the audience', async () => {
      for (const body of [
        buildCampaign({ sendNow: true }),
        withBlocks({ type: 'news', title: 'X', color: 'red' }),
        buildCampaign({ audience: { sources: ['web'], city: 'Oslo' } }),
      ]) {
        const r = await post('', body);
        expect(r.status).toBe(400);
        expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(r.body.errors[0].message).toMatch(/unknown field/);
      }
    });

    it('refuses a missing subject, an unknown source and no blocks with 422', async () => {
      expect((await post('', buildCampaign({ subject: undefined }))).status).toBe(422);
      expect((await post('', buildCampaign({ audience: { sources: ['fax'] } }))).body.errors[0].path).toBe(
        'audience.sources.0',
      );
      expect((await post('', buildCampaign({ blocks: [] }))).status).toBe(422);
    });

    it('refuses a bad PATCH and keeps the draft as it was', async () => {
      const id = await createCampaign();
      before += 1;
      const bad = await patch(`/${id}`, {
        blocks: [{ type: 'news', title: 'X', link: { url: 'javascript:x', label: 'y' } }],
      });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0].path).toBe('blocks.0.link.url');
      expect((await patch(`/${id}`, { status: 'sent' })).status).toBe(400);
      expect((await patch(`/${id}`, {})).status).toBe(422);
      const now = await get(`/${id}`);
      expect(now.body.blocks).toHaveLength(3);
      expect(now.body.status).toBe('draft');
    });
  });

  describe('preview', () => {
    it('renders every field of every block type', async () => {
      const id = await createCampaign();
      const r = await get(`/${id}/preview`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
      const html = r.text;
      expect(html).toMatch(/<html[^>]*lang="nb"/);
      expect(html).toContain('<title>Julekalender hos Sothys</title>');
      expect(html).toContain('Tre nyheter og et tilbud');
      expect(html).toContain('Hei Kari,');
      // activity
      expect(html).toContain('Hudpleiekveld i Oslo');
      expect(html).toContain('torsdag 3. desember 2099 kl. 18.00');
      expect(html).toContain('Karl Johans gate 1, Oslo');
      expect(html).toContain('src="https://sothys.no/bilder/kveld.jpg"');
      expect(html).toContain(
        '<p>Velkommen til en kveld med hudpleie.</p><p>Vi byr på te og smaksprøver.</p>',
      );
      // Every link goes through /r/, marked as a preview's so it is not counted (CONTRACT §12).
      expect(html).toContain(`href="${clickLink(id, 1)}"`);
      expect(html).toContain('Meld deg på');
      // news
      expect(html).toContain('Nytt fuktighetsserum');
      expect(html).toContain('src="https://sothys.no/bilder/serum.jpg"');
      expect(html).toContain('Lett og fuktgivende, for alle hudtyper.');
      expect(html).toContain(`href="${clickLink(id, 2)}"`);
      expect(html).toContain('Les mer');
      // offer
      expect(html).toContain('20 % på ansiktskremer');
      expect(html).toContain('Bruk koden i appen eller hos din salong.');
      expect(html).toContain('JUL20');
      expect(html).toContain('Gjelder til 24. desember 2099');
      expect(html).toContain(`href="${clickLink(id, 3)}"`);
      expect(html).toContain('Handle i appen');
      expect(html).not.toContain('href="https://sothys.no/');
      expect(await redirectOf(clickLink(id, 1))).toBe('https://sothys.no/kveld?by=oslo&dato=3');
      // footer
      expect(html).toContain('Cosmenor AS');
      expect(html).toContain(t.config.privacyContact);
      expect(html).toContain(`href="${PREVIEW_UNSUBSCRIBE_URL}"`);
    });

    it('gives a readable text/plain part with every title and link', async () => {
      const id = await createCampaign();
      const r = await get(`/${id}/preview?format=text`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      const text = r.text;
      for (const s of [
        'Hei Kari,',
        'Hudpleiekveld i Oslo',
        'torsdag 3. desember 2099 kl. 18.00',
        'Nytt fuktighetsserum',
        '20 % på ansiktskremer',
        'JUL20',
        'Gjelder til 24. desember 2099',
        `Meld deg på [${clickLink(id, 1)}]`,
        `Les mer [${clickLink(id, 2)}]`,
        `Handle i appen [${clickLink(id, 3)}]`,
        PREVIEW_UNSUBSCRIBE_URL,
      ]) {
        expect(text).toContain(s);
      }
      expect(text).not.toMatch(/<[a-z]/i);
      expect(text).not.toContain('&amp;');
      expect((await get(`/${id}/preview?format=pdf`)).status).toBe(400);
    });

    it('escapes <script>, quotes and & everywhere a user writes', async () => {
      const evil = `<script>alert("x")</script> & 'co'`;
      const r = await post(
        '',
        buildCampaign({
          name: evil,
          subject: `Tilbud <b>"nå"</b> & 'da'`,
          preheader: evil,
          blocks: [
            {
              type: 'activity',
              title: evil,
              body: `Første <img src=x onerror=alert(1)> & "sitat"`,
              startsAt: '2099-12-03T18:00:00+01:00',
              location: `Gate "1" & <i>Oslo</i>`,
              link: { url: 'https://sothys.no/?a=1&b="2"', label: `<u>Meld</u> & "på"` },
            },
            { type: 'news', title: `Nyhet <script>x</script>`, body: `'enkle' & "doble"` },
            { type: 'offer', title: 'Kode', code: `<b>J&"L"</b>` },
          ],
        }),
      );
      expect(r.status).toBe(201);
      // JSON keeps what was written; only HTML output escapes it.
      expect(r.body.name).toBe(evil);
      const html = await previewOf(r.body.id);
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/<img src=x/i);
      expect(html).not.toMatch(/<(b|i|u)>/);
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
      expect(html).toContain('<title>Tilbud &lt;b&gt;&quot;nå&quot;&lt;/b&gt; &amp; &#39;da&#39;</title>');
      expect(html).toContain('Første &lt;img src=x onerror=alert(1)&gt; &amp; &quot;sitat&quot;');
      expect(html).toContain('Gate &quot;1&quot; &amp; &lt;i&gt;Oslo&lt;/i&gt;');
      expect(html).toContain('&lt;u&gt;Meld&lt;/u&gt; &amp; &quot;på&quot;');
      // The link's URL is not in the mail; /r/ sends the browser to it, as written.
      expect(decodeURI(await redirectOf(clickLink(r.body.id, 1)))).toBe('https://sothys.no/?a=1&b="2"');
      expect(html).toContain('&#39;enkle&#39; &amp; &quot;doble&quot;');
      expect(html).toContain('&lt;b&gt;J&amp;&quot;L&quot;&lt;/b&gt;');

      const text = await previewOf(r.body.id, 'text');
      expect(text).toContain(`<script>alert("x")</script> & 'co'`);
      expect(text).toContain(`<b>J&"L"</b>`);
    });
  });

  describe('test send', () => {
    it('sends the preview to the listed addresses only, marked as a test, and to no member', async () => {
      const member = await signUpMember({ source: 'web' });
      const id = await createCampaign();
      const before = await t.c.dataSource.query('SELECT COUNT(*) AS n FROM deliveries');
      t.peer.clear();
      const to = ['test1@example.no', 'Test2@Example.no'];
      const r = await post(`/${id}/test`, { to });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ sent: 2 });
      // The answer comes after the relay took both: nothing more can arrive for this request.
      expect(t.peer.mails).toHaveLength(2);
      expect(t.peer.mails.flatMap((m) => m.rcpt).sort()).toEqual(['test1@example.no', 'test2@example.no']);
      expect(t.peer.mailsTo(member.email)).toHaveLength(0);
      const after = await t.c.dataSource.query('SELECT COUNT(*) AS n FROM deliveries');
      expect(Number(after[0].n)).toBe(Number(before[0].n));

      const html = await previewOf(id);
      const text = await previewOf(id, 'text');
      // The test mail is the preview: the same sample name greets in both.
      const normalise = (s: string) => s.replace(/\r\n/g, '\n').trimEnd();
      for (const mail of t.peer.mails) {
        const parsed = mail.parsed;
        expect(parsed.subject).toBe('[TEST] Julekalender hos Sothys');
        expect(parsed.headers.get('x-kundeklubb-test')).toBe('yes');
        // The same one-click headers a member's mail has, pointing at the dummy link.
        expect(mail.raw.match(/^List-Unsubscribe:.*$/gim)).toEqual([
          `List-Unsubscribe: <${PREVIEW_UNSUBSCRIBE_URL}>`,
        ]);
        expect(mail.raw.match(/^List-Unsubscribe-Post:.*$/gim)).toEqual([
          'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
        ]);
        expect(parsed.html).toContain('Hei Kari,');
        expect(html).toContain('Hei Kari,');
        expect(normalise(parsed.html as string)).toBe(normalise(html));
        expect(normalise(parsed.text as string)).toBe(normalise(text));
      }
    });

    it('refuses more than 10, none, or bad addresses with 422', async () => {
      const id = await createCampaign();
      const eleven = Array.from({ length: 11 }, (_, i) => `t${i}@example.no`);
      expect((await post(`/${id}/test`, { to: eleven })).status).toBe(422);
      expect((await post(`/${id}/test`, { to: [] })).status).toBe(422);
      const bad = await post(`/${id}/test`, { to: ['a@example.no', 'ikke-en-adresse'] });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0].path).toBe('to.1');
      expect((await post(`/${id}/test`, { to: ['a@example.no'], cc: ['b@example.no'] })).status).toBe(400);
    });

    it('answers 502 problem+json with the reason when the mail server refuses', async () => {
      const id = await createCampaign();
      t.peer.behave(() => ({ code: 550, message: 'Mailbox unavailable' }));
      try {
        const r = await post(`/${id}/test`, { to: ['avvist@example.no'] });
        expect(r.status).toBe(502);
        expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(r.body.detail).toMatch(/Mailbox unavailable/);
        expect(r.body.detail).not.toContain('avvist@example.no');
        expect(t.logs.join('\n')).not.toContain('avvist@example.no');
      } finally {
        t.peer.behave(null);
      }
    });
  });

  describe('audience', () => {
    const count = async (query: string) => {
      const r = await get(`/audience-count${query}`);
      expect(r.status).toBe(200);
      return r.body.count as number;
    };
    const countByBody = async (audience: unknown) => {
      const r = await post('/audience-count', { audience });
      expect(r.status).toBe(200);
      return r.body.count as number;
    };

    it('counts active members by source and partner, by query and by body', async () => {
      const queries = {
        all: '',
        osme: '?sources=osme-mobile',
        osmeOrPartner: '?sources=osme-mobile,cosmenor-partner',
        salong17: '?partnerIds=aud-salong-17',
        osmeSalong17: '?sources=osme-mobile&partnerIds=aud-salong-17',
        twoSalons: '?partnerIds=aud-salong-17&partnerIds=aud-salong-3',
      };
      const before: Record<string, number> = {};
      for (const [k, q] of Object.entries(queries)) before[k] = await count(q);

      await signUpMember({ source: 'osme-mobile', partnerId: 'aud-salong-17' });
      await signUpMember({ source: 'osme-mobile', partnerId: 'aud-salong-17' });
      await signUpMember({ source: 'osme-mobile', partnerId: 'aud-salong-3' });
      await signUpMember({ source: 'cosmenor-partner', partnerId: 'aud-salong-17' });
      await signUpMember({ source: 'web' });
      const leaver = await signUpMember({ source: 'osme-mobile', partnerId: 'aud-salong-17' });
      const left = await request(t.app)
        .post(`/v1/members/${leaver.id}/unsubscribe`)
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send({ channel: 'app' });
      expect(left.status).toBe(200);

      const added = async (k: keyof typeof queries) => (await count(queries[k])) - before[k];
      expect(await added('all')).toBe(5);
      expect(await added('osme')).toBe(3);
      expect(await added('osmeOrPartner')).toBe(4);
      expect(await added('salong17')).toBe(3);
      expect(await added('osmeSalong17')).toBe(2);
      expect(await added('twoSalons')).toBe(4);
      expect(await count('?partnerIds=aud-salong-17')).toBe(3);

      expect(await countByBody({ sources: ['osme-mobile'], partnerIds: ['aud-salong-17'] })).toBe(2);
      expect(await countByBody({ partnerIds: ['aud-salong-17', 'aud-salong-3'] })).toBe(4);
      expect(await countByBody(null)).toBe(await count(''));
      expect(await countByBody({ sources: [] })).toBe(await count(''));

      const c = await post(
        '',
        buildCampaign({ audience: { sources: ['osme-mobile'], partnerIds: ['aud-salong-17'] } }),
      );
      expect(c.body.recipients).toBe(2);
      expect((await get(`/${c.body.id}`)).body.recipients).toBe(2);
      const listed = (await get('?status=draft')).body.items.find((x: { id: number }) => x.id === c.body.id);
      expect(listed.recipients).toBe(2);
    });

    it('refuses unknown sources and unknown parameters', async () => {
      expect((await get('/audience-count?sources=fax')).status).toBe(400);
      expect((await get('/audience-count?city=Oslo')).status).toBe(400);
      expect((await post('/audience-count', { audience: { sources: ['fax'] } })).status).toBe(422);
      expect((await post('/audience-count', { sources: ['web'] })).status).toBe(400);
    });
  });

  describe('render once, for the delivery engine', () => {
    it('freezes one render on the row and every later load returns it', async () => {
      const id = await createCampaign();
      const campaigns = t.c.campaigns;
      await expect(campaigns.loadCompiled(id)).rejects.toThrow(/freezeForSending/);
      const frozen = await t.c.dataSource.transaction((m) => campaigns.freezeForSending(m, id));
      const again = await t.c.dataSource.transaction((m) => campaigns.freezeForSending(m, id));
      expect(again.html).toBe(frozen.html);
      const loaded = await campaigns.loadCompiled(id);
      expect(loaded).toEqual({
        subject: 'Julekalender hos Sothys',
        html: frozen.html,
        text: frozen.text,
        nonce: frozen.nonce,
      });
      expect(await campaigns.loadCompiled(id)).toBe(loaded);
      const [row] = await t.c.dataSource.query('SELECT compiled_html FROM campaigns WHERE id = ?', [id]);
      expect(row.compiled_html).toBe(frozen.html);
      // What members get is what the preview showed.
      expect(await previewOf(id)).toContain('Hudpleiekveld i Oslo');
    });
  });
});
