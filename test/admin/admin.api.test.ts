import crypto from 'node:crypto';
import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import { createActiveMembers, createCampaign } from '../support/club';
import { verifyPassword } from '../../src/staff/passwords';
import { osloLocalToDate, osloWeekStart } from '../../src/presentation/oslo-time';
import { toDbTime } from '../../src/db/time';
import {
  formBody,
  get,
  hiddenCsrf,
  login,
  loginForm,
  PASSWORD,
  post,
  setCookie,
  staffUser,
  type Session,
} from './helpers';

const HOUR = 3600 * 1000;

describe.each(databaseKinds())('admin web UI on %s', (kind) => {
  let t: TestApp;
  let offsetMs = 0;
  const advance = (ms: number) => {
    offsetMs += ms;
  };

  beforeAll(async () => {
    t = await startTestApp(kind, {
      env: { DOUBLE_OPT_IN: 'false' },
      clock: () => new Date(Date.now() + offsetMs),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('staff accounts and login', () => {
    it('stores only an scrypt hash of the password, which verifies the password and nothing else', async () => {
      const email = await staffUser(t, 'marketing', 'Hash.Test@Cosmenor.no');
      const [row] = await t.c.dataSource.query(
        'SELECT email, password_hash FROM staff_users WHERE email = ?',
        ['hash.test@cosmenor.no'],
      );
      expect(row.email).toBe(email.toLowerCase());
      expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(row.password_hash).not.toContain(PASSWORD);
      await expect(verifyPassword(PASSWORD, row.password_hash)).resolves.toBe(true);
      await expect(verifyPassword(`${PASSWORD}x`, row.password_hash)).resolves.toBe(false);
      await expect(t.c.staff.users.create('kort@cosmenor.no', 'admin', 'for-kort')).rejects.toMatchObject({
        status: 422,
      });
      await expect(t.c.staff.users.create(email, 'admin', PASSWORD)).rejects.toMatchObject({ status: 409 });
    });

    it('logs in with the right password: a session cookie that is HttpOnly, SameSite=Strict, Path=/admin', async () => {
      const email = await staffUser(t, 'admin');
      const { res } = await loginForm(t, email);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin');
      const cookie = setCookie(res, 'kk_staff')!;
      expect(cookie.line).toMatch(/; HttpOnly/);
      expect(cookie.line).toMatch(/; SameSite=Strict/);
      expect(cookie.line).toMatch(/; Path=\/admin(;|$)/);
      // PUBLIC_URL is http in tests; Secure is set only behind https.
      expect(cookie.line).not.toMatch(/Secure/);
      // The database holds a hash of the token, never the token.
      const rows = await t.c.dataSource.query('SELECT id FROM staff_sessions');
      const hashed = crypto.createHash('sha256').update(decodeURIComponent(cookie.value)).digest('hex');
      expect(rows.map((r: { id: string }) => r.id)).toContain(hashed);
      expect(JSON.stringify(rows)).not.toContain(cookie.value);
      const home = await request(t.app).get('/admin').set('Cookie', `kk_staff=${cookie.value}`);
      expect(home.status).toBe(200);
      expect(home.text).toContain(email);
      expect(home.text).toContain('Oversikt');
    });

    it('refuses a wrong password or an unknown address with the same answer, and sets no session', async () => {
      const email = await staffUser(t, 'admin');
      for (const [who, pw] of [
        [email, 'feil-passord-helt-sikkert'],
        ['ingen.her@cosmenor.no', PASSWORD],
      ]) {
        const { res } = await loginForm(t, who, pw);
        expect(res.status).toBe(401);
        expect(res.text).toContain('Feil e-postadresse eller passord.');
        expect(setCookie(res, 'kk_staff')).toBeNull();
      }
      await request(t.app).get('/admin').expect(303).expect('location', '/admin/login?next=%2Fadmin');
    });

    it('after 5 failures an account gets 429 (even with the right password) for 15 minutes; other accounts are not affected', async () => {
      const email = await staffUser(t, 'privacy');
      const other = await staffUser(t, 'privacy');
      for (let i = 0; i < 5; i++)
        expect((await loginForm(t, email, `feil-passord-${i}-xxxxx`)).res.status).toBe(401);
      const limited = (await loginForm(t, email.toUpperCase(), PASSWORD)).res;
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.text).toContain('For mange mislykkede forsøk');
      expect(setCookie(limited, 'kk_staff')).toBeNull();
      expect((await loginForm(t, other)).res.status).toBe(303);
      advance(15 * 60 * 1000 + 1000);
      expect((await loginForm(t, email)).res.status).toBe(303);
    });

    it('a disabled account cannot log in, and its open sessions end at once', async () => {
      const email = await staffUser(t, 'marketing');
      const s = await login(t, email);
      await t.c.staff.users.disable(email);
      await get(t, s, '/admin').expect(303);
      expect((await loginForm(t, email)).res.status).toBe(401);
    });
  });

  describe('sessions', () => {
    it('expire after 2 hours idle', async () => {
      const s = await login(t, await staffUser(t, 'admin'));
      advance(2 * HOUR - 60_000);
      await get(t, s, '/admin').expect(200);
      advance(2 * HOUR - 60_000);
      await get(t, s, '/admin').expect(200);
      advance(2 * HOUR + 1000);
      const res = await get(t, s, '/admin/campaigns');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin/login?next=%2Fadmin%2Fcampaigns');
    });

    it('expire 12 hours after login however active', async () => {
      const s = await login(t, await staffUser(t, 'admin'));
      for (let h = 0; h < 11; h++) {
        advance(HOUR);
        await get(t, s, '/admin').expect(200);
      }
      advance(HOUR);
      await get(t, s, '/admin').expect(303);
    });

    it('logout deletes the session: the old cookie no longer works', async () => {
      const s = await login(t, await staffUser(t, 'admin'));
      const before = Number((await t.c.dataSource.query('SELECT COUNT(*) AS n FROM staff_sessions'))[0].n);
      const res = await post(t, s, '/admin/logout');
      expect(res.status).toBe(303);
      expect(setCookie(res, 'kk_staff')!.line).toMatch(/Max-Age=0/);
      expect(Number((await t.c.dataSource.query('SELECT COUNT(*) AS n FROM staff_sessions'))[0].n)).toBe(
        before - 1,
      );
      await get(t, s, '/admin').expect(303);
    });
  });

  describe('roles and CSRF', () => {
    let marketing: Session;
    let privacy: Session;
    let admin: Session;
    let memberId: number;
    let campaignId: number;

    beforeAll(async () => {
      marketing = await login(t, await staffUser(t, 'marketing'));
      privacy = await login(t, await staffUser(t, 'privacy'));
      admin = await login(t, await staffUser(t, 'admin'));
      [{ id: memberId }] = await createActiveMembers(t, 1, 'rolle');
      campaignId = await createCampaign(t);
    });

    it('maps roles to scopes: a page outside the role is a 403 page', async () => {
      const cases: Array<[Session, string, number]> = [
        [marketing, '/admin/privacy', 403],
        [marketing, `/admin/privacy/members/${memberId}/erase`, 403],
        [marketing, '/admin/campaigns', 200],
        [marketing, '/admin/members', 200],
        [marketing, `/admin/members/${memberId}`, 200],
        [privacy, '/admin/campaigns', 403],
        [privacy, `/admin/campaigns/${campaignId}/edit`, 403],
        [privacy, '/admin/privacy', 200],
        [privacy, '/admin/members', 200],
        [admin, '/admin/privacy', 200],
        [admin, '/admin/campaigns', 200],
      ];
      for (const [s, path, status] of cases) {
        const res = await get(t, s, path);
        expect([path, res.status]).toEqual([path, status]);
        if (status === 403) expect(res.text).toContain('Ingen tilgang');
      }
      // The menu offers only what the role may open; only privacy staff see the erase button.
      const mPage = (await get(t, marketing, `/admin/members/${memberId}`)).text;
      expect(mPage).not.toContain('href="/admin/privacy"');
      expect(mPage).not.toContain('Slett medlemmet');
      expect((await get(t, privacy, `/admin/members/${memberId}`)).text).toContain('Slett medlemmet');
    });

    it('refuses every POST without a valid CSRF token (403), and changes nothing', async () => {
      const paths = [
        '/admin/logout',
        '/admin/campaigns/new',
        '/admin/campaigns/preview',
        `/admin/campaigns/${campaignId}/edit`,
        `/admin/campaigns/${campaignId}/send`,
        `/admin/campaigns/${campaignId}/pause`,
        `/admin/campaigns/${campaignId}/resume`,
        `/admin/campaigns/${campaignId}/cancel`,
        '/admin/privacy/requests',
        '/admin/privacy/requests/1/close',
        '/admin/privacy/requests/1/erase',
        `/admin/privacy/members/${memberId}/export`,
        `/admin/privacy/members/${memberId}/restrict`,
        `/admin/privacy/members/${memberId}/erase`,
      ];
      const rows = await t.c.dataSource.query('SELECT email FROM members WHERE id = ?', [memberId]);
      for (const path of paths) {
        for (const token of [null, 'x'.repeat(43), privacy.csrf]) {
          const res = await post(
            t,
            admin,
            path,
            { confirmEmail: rows[0].email, restricted: 'true', when: 'now', name: 'Endret' },
            token,
          );
          expect([path, token, res.status]).toEqual([path, token, 403]);
        }
      }
      // A fetch with the header works; without it, refused.
      await request(t.app)
        .post('/admin/campaigns/preview')
        .set('Cookie', admin.cookie)
        .set('Accept', 'application/json')
        .type('form')
        .send('name=x')
        .expect(403);
      await request(t.app)
        .post('/admin/campaigns/preview')
        .set('Cookie', admin.cookie)
        .set('X-CSRF-Token', admin.csrf)
        .type('form')
        .send('name=x')
        .expect(200);
      // The login form carries its own token: without it, refused.
      await request(t.app)
        .post('/admin/login')
        .type('form')
        .send(formBody({ email: 'a@b.no', password: PASSWORD }))
        .expect(403);
      expect((await t.c.members.get(memberId)).status).toBe('active');
      expect((await t.c.campaigns.get(campaignId)).status).toBe('draft');
      await get(t, admin, '/admin').expect(200);
    });

    it('serves pages with their own strict CSP and its one script; no inline script', async () => {
      const res = await get(t, admin, `/admin/campaigns/${campaignId}/edit`);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const script = /<script src="([^"]+)"/.exec(res.text)![1];
      await request(t.app)
        .get(script)
        .expect(200)
        .expect('content-type', /javascript/);
      const css = /<link rel="stylesheet" href="([^"]+)"/.exec(res.text)![1];
      await request(t.app)
        .get(css)
        .expect(200)
        .expect('content-type', /text\/css/);
    });
  });

  describe('campaigns through the forms', () => {
    let s: Session;
    beforeAll(async () => {
      s = await login(t, await staffUser(t, 'marketing', 'markedsforing@cosmenor.no'));
      await createActiveMembers(t, 3, 'kampanje', () => ({
        source: 'cosmenor-partner',
        partnerId: 'salong-17',
      }));
    });

    const draft = (overrides: Record<string, string | string[]> = {}) => ({
      name: 'Desember',
      subject: 'Julekalender hos Sothys',
      preheader: '',
      'audience.sources': ['cosmenor-partner'],
      'audience.partnerIds': 'salong-17',
      'blocks.0.type': 'activity',
      'blocks.0.title': 'Hudpleiekveld i Oslo',
      'blocks.0.startsAt': '2099-12-03T18:00',
      'blocks.0.location': 'Karl Johans gate 1',
      'blocks.0.body': 'Velkommen.\n\nTa med en venn.',
      'blocks.0.link.url': 'https://sothys.no/kveld',
      'blocks.0.link.label': 'Meld deg på',
      'blocks.1.type': 'offer',
      'blocks.1.title': '20 % på ansiktskremer',
      'blocks.1.code': 'JUL20',
      'blocks.1.validUntil': '2099-12-24',
      op: 'save',
      ...overrides,
    });

    it('shows the service’s validation errors next to their fields and stores nothing', async () => {
      const before = (await t.c.campaigns.list({ limit: 200 })).items.length;
      const res = await post(
        t,
        s,
        '/admin/campaigns/new',
        draft({ 'blocks.0.title': '', 'blocks.0.link.url': 'javascript:alert(1)' }),
      );
      expect(res.status).toBe(422);
      expect(res.text).toMatch(
        /<p class="field-error" id="f-blocks-0-title-error"><span>Må fylles ut\.<\/span>/,
      );
      expect(res.text).toMatch(/id="f-blocks-0-link-url-error"><span>Må være en fullstendig adresse/);
      expect(res.text).toMatch(
        /id="f-blocks-0-title" name="blocks\.0\.title" aria-describedby="f-blocks-0-title-error" aria-invalid="true"/,
      );
      expect(res.text).toContain('href="#f-blocks-0-title">Blokk 1 – Tittel: Må fylles ut.');
      // What was typed stays in the form, escaped.
      expect(res.text).toContain('value="javascript:alert(1)"');
      expect((await t.c.campaigns.list({ limit: 200 })).items.length).toBe(before);
    });

    it('saves a draft with the Oslo time converted to ISO with offset, and the audience count', async () => {
      const res = await post(t, s, '/admin/campaigns/new', draft());
      expect(res.status).toBe(303);
      const id = Number(/\/admin\/campaigns\/(\d+)\/edit\?melding=opprettet/.exec(res.headers.location)![1]);
      const c = await t.c.campaigns.get(id);
      expect(c.blocks[0]).toMatchObject({
        type: 'activity',
        startsAt: '2099-12-03T18:00:00+01:00',
        body: 'Velkommen.\n\nTa med en venn.',
      });
      expect(c.blocks[1]).toEqual({
        type: 'offer',
        title: '20 % på ansiktskremer',
        code: 'JUL20',
        validUntil: '2099-12-24',
      });
      expect(c.audience).toEqual({ sources: ['cosmenor-partner'], partnerIds: ['salong-17'] });
      const page = await get(t, s, `/admin/campaigns/${id}/edit?melding=opprettet`);
      expect(page.text).toContain('Utkastet er opprettet.');
      expect(page.text).toContain('value="2099-12-03T18:00"');
      expect(page.text).toContain('<strong>3</strong> medlemmer får dette nyhetsbrevet');
      // The preview is the service's real render, in a sandboxed srcdoc frame.
      expect(page.text).toMatch(
        /<iframe title="Forhåndsvisning av nyhetsbrevet" sandbox srcdoc="[^"]*Hudpleiekveld i Oslo/,
      );

      // Summer time gets +02:00.
      await post(
        t,
        s,
        `/admin/campaigns/${id}/edit`,
        draft({ 'blocks.0.startsAt': '2027-06-10T18:30' }),
      ).expect(303);
      expect((await t.c.campaigns.get(id)).blocks[0]).toMatchObject({
        startsAt: '2027-06-10T18:30:00+02:00',
      });
    });

    it('adds, moves and removes blocks without JavaScript, saving nothing until asked', async () => {
      const added = await post(t, s, '/admin/campaigns/new', draft({ op: 'add:news' }));
      expect(added.status).toBe(200);
      expect(added.text).toContain('name="blocks.2.type" value="news"');
      const moved = await post(t, s, '/admin/campaigns/new', draft({ op: 'up:1' }));
      expect(moved.text.indexOf('name="blocks.0.type" value="offer"')).toBeGreaterThan(0);
      expect(moved.text).toMatch(/name="blocks\.1\.title"[^>]* value="Hudpleiekveld i Oslo"/);
      const removed = await post(t, s, '/admin/campaigns/new', draft({ op: 'remove:0' }));
      expect(removed.text).not.toContain('Hudpleiekveld i Oslo</');
      expect(removed.text).toContain('name="blocks.0.type" value="offer"');
      expect(removed.text).not.toContain('name="blocks.1.type"');
    });

    it('previews unsaved content with the same renderer, for the script', async () => {
      const res = await request(t.app)
        .post('/admin/campaigns/preview')
        .set('Cookie', s.cookie)
        .set('X-CSRF-Token', s.csrf)
        .set('Accept', 'application/json')
        .type('form')
        .send(formBody(draft({ 'blocks.1.title': 'Ulagret <b>tittel</b>' })));
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(3);
      expect(res.body.html).toContain('Hei Kari');
      expect(res.body.html).toContain('Ulagret &lt;b&gt;tittel&lt;/b&gt;');
      // Byte for byte what the campaigns service renders for that content.
      const same = await t.c.campaigns.previewContent({
        subject: 'Julekalender hos Sothys',
        blocks: [
          {
            type: 'activity',
            title: 'Hudpleiekveld i Oslo',
            body: 'Velkommen.\n\nTa med en venn.',
            startsAt: '2099-12-03T18:00:00+01:00',
            location: 'Karl Johans gate 1',
            link: { url: 'https://sothys.no/kveld', label: 'Meld deg på' },
          },
          { type: 'offer', title: 'Ulagret <b>tittel</b>', code: 'JUL20', validUntil: '2099-12-24' },
        ],
      });
      expect(res.body.html).toBe(same);
      const bad = await request(t.app)
        .post('/admin/campaigns/preview')
        .set('Cookie', s.cookie)
        .set('X-CSRF-Token', s.csrf)
        .type('form')
        .send(formBody(draft({ subject: '' })));
      expect(bad.body.html).toBeNull();
      expect(bad.body.errors).toEqual([{ path: 'subject', label: 'Emne', message: 'Må fylles ut.' }]);
    });

    it('sends a test to the logged-in user, then sends for real after a confirmation stating the number of recipients', async () => {
      const created = await post(t, s, '/admin/campaigns/new', draft({ op: 'test' }));
      expect(created.status).toBe(303);
      const id = Number(/campaigns\/(\d+)\/edit\?melding=test-sendt/.exec(created.headers.location)![1]);
      await t.peer.waitFor((m) => m.some((x) => x.rcpt.includes('markedsforing@cosmenor.no')));
      expect(t.peer.mailsTo('markedsforing@cosmenor.no')[0].parsed.subject).toBe(
        '[TEST] Julekalender hos Sothys',
      );

      const next = await post(t, s, `/admin/campaigns/${id}/edit`, draft({ op: 'send' }));
      expect(next.headers.location).toBe(`/admin/campaigns/${id}/send`);
      const confirm = await get(t, s, `/admin/campaigns/${id}/send`);
      expect(confirm.text).toContain('<strong>3</strong> medlemmer får dette nyhetsbrevet');
      expect(confirm.text).toContain('Bekreft utsendelse til 3 medlemmer');
      expect((await t.c.campaigns.get(id)).status).toBe('draft');

      const past = await post(t, s, `/admin/campaigns/${id}/send`, {
        when: 'later',
        scheduledAt: '2020-01-01T10:00',
      });
      expect(past.status).toBe(422);
      expect(past.text).toContain('Tidspunktet må være frem i tid.');
      const sent = await post(t, s, `/admin/campaigns/${id}/send`, { when: 'now' });
      expect(sent.headers.location).toBe(`/admin/campaigns/${id}?melding=sending-startet`);
      const stats = await get(t, s, `/admin/campaigns/${id}/stats.json`);
      expect(stats.body).toMatchObject({ status: 'sending', total: 3, statusLabel: 'Sendes' });
      const progress = await get(t, s, `/admin/campaigns/${id}`);
      expect(progress.text).toContain('role="progressbar"');
      expect(progress.text).toContain(`data-stats-url="/admin/campaigns/${id}/stats.json"`);
      // Pause, resume, cancel (after its confirmation page).
      await post(t, s, `/admin/campaigns/${id}/pause`).expect(303);
      expect((await t.c.sending.stats(id)).status).toBe('paused');
      await post(t, s, `/admin/campaigns/${id}/resume`).expect(303);
      expect((await get(t, s, `/admin/campaigns/${id}/cancel`)).text).toContain('Dette kan ikke angres.');
      await post(t, s, `/admin/campaigns/${id}/cancel`).expect(303);
      expect((await t.c.sending.stats(id)).status).toBe('cancelled');
      // A sent campaign is not editable from the UI either.
      await get(t, s, `/admin/campaigns/${id}/edit`).expect(303).expect('location', `/admin/campaigns/${id}`);
    });

    it('schedules in Oslo time', async () => {
      const created = await post(t, s, '/admin/campaigns/new', draft({ op: 'send' }));
      const id = Number(/campaigns\/(\d+)\/send/.exec(created.headers.location)![1]);
      await post(t, s, `/admin/campaigns/${id}/send`, {
        when: 'later',
        scheduledAt: '2030-01-15T09:00',
        // The draft's activity (December 2026) will have passed by then: the sender says so.
        confirmPast: 'yes',
      }).expect(303);
      const c = await t.c.campaigns.get(id);
      expect(c).toMatchObject({ status: 'scheduled', scheduledAt: '2030-01-15T08:00:00.000Z' });
    });
  });

  describe('dashboard', () => {
    it('counts members by status and source, and charts sign-ups and leaves per Oslo week', async () => {
      const s = await login(t, await staffUser(t, 'marketing'));
      const before = await t.c.adminStats.memberCounts();
      const weeksBefore = await t.c.adminStats.weeklyConsent(12);
      const joined = await createActiveMembers(t, 3, 'oversikt', () => ({ source: 'web' }));
      await t.c.members.leave(joined[0].id, 'app');
      const after = await t.c.adminStats.memberCounts();
      expect(after.byStatus.active - before.byStatus.active).toBe(2);
      expect(after.byStatus.unsubscribed - before.byStatus.unsubscribed).toBe(1);
      expect(after.bySource.web.active - before.bySource.web.active).toBe(2);

      // Monday 00:30 in Oslo is Sunday 23:30 UTC: it belongs to the new week, Sunday 23:30 Oslo to the old one.
      const monday = osloWeekStart(t.c.clock()).toISOString().slice(0, 10);
      const sunday = new Date(Date.parse(`${monday}T00:00:00Z`) - 86400000).toISOString().slice(0, 10);
      for (const at of [osloLocalToDate(`${monday}T00:30`)!, osloLocalToDate(`${sunday}T23:30`)!]) {
        await t.c.dataSource.query(
          'INSERT INTO consent_events (member_id, type, occurred_at) VALUES (NULL, ?, ?)',
          ['signup', toDbTime(at)],
        );
      }
      const weeks = await t.c.adminStats.weeklyConsent(12);
      expect(weeks).toHaveLength(12);
      expect(weeks[11].weekStart).toBe(monday);
      expect(weeks[11].signups - weeksBefore[11].signups).toBe(4);
      expect(weeks[11].withdrawals - weeksBefore[11].withdrawals).toBe(1);
      expect(weeks[10].signups - weeksBefore[10].signups).toBe(1);

      const page = await get(t, s, '/admin');
      expect(page.text).toContain(
        `<p class="stat-value">${after.byStatus.active}</p><p class="stat-label">Aktive medlemmer</p>`,
      );
      expect(page.text).toContain(`<title>Uke ${weeks[11].week}: ${weeks[11].signups} innmeldinger</title>`);
      expect(page.text).toMatch(/<svg viewBox="0 0 720 240" role="img"/);
    });
  });

  describe('members and privacy', () => {
    let s: Session;
    let people: Array<{ id: number; email: string }>;
    beforeAll(async () => {
      s = await login(t, await staffUser(t, 'privacy'));
      people = await createActiveMembers(t, 3, 'personvern');
    });

    it('finds a member by address (normalised) and shows the consent history', async () => {
      const list = await get(t, s, `/admin/members?email=${encodeURIComponent(' PERSONVERN1@example.no ')}`);
      expect(list.status).toBe(200);
      expect(list.text).toContain(`href="/admin/members/${people[1].id}">personvern1@example.no</a>`);
      expect(list.text).not.toContain('personvern0@example.no');
      const bad = await get(t, s, '/admin/members?email=ikke-en-adresse');
      expect(bad.status).toBe(422);
      expect(bad.text).toContain('Må være en gyldig e-postadresse.');
      const page = await get(t, s, `/admin/members/${people[1].id}`);
      expect(page.text).toContain('Samtykkehistorikk');
      expect(page.text).toContain('Innmelding (samtykke gitt)');
      expect(page.text).toContain('kundeklubb-2024-05');
    });

    it('exports as a JSON download, and restricts and lifts', async () => {
      const res = await post(t, s, `/admin/privacy/members/${people[0].id}/export`);
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toMatch(
        /^attachment; filename="?medlem-\d+-innsyn\.json"?$/,
      );
      expect(JSON.parse(res.text).member.email).toBe('personvern0@example.no');
      await post(t, s, `/admin/privacy/members/${people[0].id}/restrict`, { restricted: 'true' }).expect(303);
      expect((await t.c.members.get(people[0].id)).status).toBe('restricted');
      await post(t, s, `/admin/privacy/members/${people[0].id}/restrict`, { restricted: 'false' }).expect(
        303,
      );
      expect((await t.c.members.get(people[0].id)).status).toBe('active');
    });

    it('registers an erasure request and erases the member only after the address is typed again', async () => {
      const created = await post(t, s, '/admin/privacy/requests', {
        type: 'erasure',
        email: 'Personvern2@example.no',
        receivedAt: '2026-11-20T10:00',
        channel: 'email',
        note: 'Ringte inn',
      });
      expect(created.status).toBe(303);
      const rid = Number(/requests\/(\d+)\?melding=registrert/.exec(created.headers.location)![1]);
      const log = await get(t, s, '/admin/privacy');
      expect(log.text).toContain(`Sletting #${rid}`);
      const reqPage = await get(t, s, `/admin/privacy/requests/${rid}`);
      expect(reqPage.text).toContain(`href="/admin/privacy/requests/${rid}/erase"`);
      const confirmPage = await get(t, s, `/admin/privacy/requests/${rid}/erase`);
      expect(confirmPage.text).toContain('Skriv e-postadressen for å bekrefte');
      const csrf = hiddenCsrf(confirmPage.text);
      const wrong = await post(
        t,
        s,
        `/admin/privacy/requests/${rid}/erase`,
        { confirmEmail: 'personvern1@example.no' },
        csrf,
      );
      expect(wrong.status).toBe(422);
      expect(await t.c.members.findMember(people[2].id)).not.toBeNull();
      const ok = await post(
        t,
        s,
        `/admin/privacy/requests/${rid}/erase`,
        { confirmEmail: 'personvern2@example.no' },
        csrf,
      );
      expect(ok.status).toBe(303);
      expect(await t.c.members.findMember(people[2].id)).toBeNull();
      const closed = await t.c.privacyRequests.get(rid);
      expect(closed).toMatchObject({ status: 'done', outcome: 'erased', email: null });
    });

    it('shows form errors for a request and keeps what was typed', async () => {
      const request = (fields: Record<string, string>) =>
        post(t, s, '/admin/privacy/requests', {
          type: 'access',
          email: 'kari@example.no',
          receivedAt: '2026-11-20T10:00',
          channel: 'email',
          note: '',
          ...fields,
        });
      const res = await request({ email: 'ikke-gyldig' });
      expect(res.status).toBe(422);
      expect(res.text).toContain('Må være en gyldig e-postadresse.');
      expect(res.text).toContain('value="ikke-gyldig"');
      // Each message in Norwegian, whether the schema or the service refused the value.
      const empty = await request({ receivedAt: '' });
      expect(empty.status).toBe(422);
      expect(empty.text).toContain('Mottatt: Må være en dato og et klokkeslett.');
      const future = await request({ receivedAt: '2999-01-01T10:00' });
      expect(future.status).toBe(422);
      expect(future.text).toContain('Mottatt: Kan ikke være frem i tid.');
    });
  });
});
