import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { dumpAllTables, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { campaignAction, createActiveMembers, createCampaign, stats, waitUntil } from '../support/club';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';

const SUBJECT = 'Julekalender hos Sothys';
const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15 SpyBrowser';
/** What a client tells about itself, none of which may be kept or logged. */
const PERSONAL_HEADERS = {
  'user-agent': BROWSER,
  'x-forwarded-for': '203.0.113.77',
  'x-real-ip': '198.51.100.23',
  forwarded: 'for=192.0.2.60;proto=https',
  referer: 'https://webmail.example.no/inbox/message/SpyReferrer',
};
const LINK_CHECKERS = [
  'Barracuda Sentinel (EE)',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Proofpoint',
  'Mozilla/5.0 (compatible; Mimecast URL Protect)',
  'Mozilla/4.0 (compatible; ms-office; MSOffice 16)',
];

describe.each(databaseKinds())('clicks and the web version on %s', (kind) => {
  let t: TestApp;
  let bg: BackgroundWorker;
  let id: number;
  let draftId: number;
  let html: string;
  let text: string;

  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
    const members = await createActiveMembers(t, 2, 'klikk');
    id = await createCampaign(t);
    draftId = await createCampaign(t, { name: 'Utkast' });
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
    bg = new BackgroundWorker({
      logger: t.c.logger,
      jobs: [createDeliveryWorker(t.c, { retryBaseMs: 100, housekeepingMs: 100, leaseMs: 5000 })],
    });
    bg.start();
    await waitUntil(async () => (await stats(t, id)).status === 'sent', 30000);
    await bg.stop();
    const mail = t.peer.mailsTo(members[0].email).find((m) => m.parsed.subject === SUBJECT)!;
    html = String(mail.parsed.html);
    text = String(mail.parsed.text);
  });
  afterAll(async () => {
    await bg?.stop();
    await t?.close();
  });

  const click = (path: string, headers: Record<string, string> = PERSONAL_HEADERS) =>
    request(t.app).get(path).set(headers);
  const counts = async (campaignId = id) => {
    const rows: Array<{ n: number; clicks: number }> = await t.c.dataSource.query(
      'SELECT n, clicks FROM click_counts WHERE campaign_id = ? ORDER BY n',
      [campaignId],
    );
    return rows.map((r) => Number(r.clicks));
  };
  const clickStats = async (campaignId = id) => {
    const r = await request(t.app)
      .get(`/v1/campaigns/${campaignId}/stats`)
      .set('authorization', `Bearer ${t.tokens.campaigns}`);
    expect(r.status).toBe(200);
    return r.body.clicks as Array<Record<string, unknown>>;
  };
  const publicIdOf = async (campaignId: number) =>
    String(
      (await t.c.dataSource.query('SELECT public_id FROM campaigns WHERE id = ?', [campaignId]))[0].public_id,
    );

  it('sends every link of the newsletter through /r/, except the person’s own unsubscribe and the privacy contact', async () => {
    const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    const publicId = await publicIdOf(id);
    const kinds = hrefs.map((h) =>
      h.startsWith(`${TEST_PUBLIC_URL}/r/${id}/`)
        ? `r${h.slice(`${TEST_PUBLIC_URL}/r/${id}/`.length)}`
        : h === `${TEST_PUBLIC_URL}/n/${publicId}`
          ? 'web version'
          : h.startsWith(`${TEST_PUBLIC_URL}/u/`)
            ? 'unsubscribe'
            : h === `mailto:${t.config.privacyContact}`
              ? 'privacy contact'
              : h,
    );
    // The activity's and the news' images link where their buttons do.
    expect(kinds).toEqual(['web version', 'r1', 'r1', 'r2', 'r2', 'r3', 'privacy contact', 'unsubscribe']);
    expect(html.indexOf('Vis i nettleser')).toBeLessThan(html.indexOf('Hei Navn0,'));
    for (const [n, label] of [
      [1, 'Meld deg på'],
      [2, 'Les mer'],
      [3, 'Handle i appen'],
    ])
      expect(text).toContain(`${label} [${TEST_PUBLIC_URL}/r/${id}/${n}]`);
    expect(text).toContain(`Vis i nettleser [${TEST_PUBLIC_URL}/n/${publicId}]`);
    expect(`${html}\n${text}`).not.toMatch(/https:\/\/sothys\.no\/(kveld|serum|app)/);
  });

  it('redirects a click to the link’s stored URL and adds one to that link’s counter, and nothing else anywhere', async () => {
    const before = await dumpAllTables(t.c);
    const start = await counts();
    const r = await click(`/r/${id}/1`);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://sothys.no/kveld?by=oslo&dato=3');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(await counts()).toEqual([start[0] + 1, start[1], start[2]]);
    // The same dump but for that one counter: no row, time, member, address or agent per click.
    const after = await dumpAllTables(t.c);
    const counter = (dump: string) => /== click_counts\n(.*)/.exec(dump)![1];
    expect(after.replace(counter(after), '')).toBe(before.replace(counter(before), ''));
    const rows = JSON.parse(counter(after)) as Array<Record<string, unknown>>;
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['campaign_id', 'clicks', 'n']);
  });

  it('does not count HEAD, requests without a user agent, known bots, prefetches or the four link checkers', async () => {
    const start = await counts();
    const head = await request(t.app).head(`/r/${id}/2`).set(PERSONAL_HEADERS);
    expect(head.status).toBe(302);
    expect((await request(t.app).get(`/r/${id}/2`)).status).toBe(302);
    for (const agent of [...LINK_CHECKERS, 'Mozilla/5.0 (compatible; Googlebot/2.1)', 'curl/8.5.0']) {
      const r = await click(`/r/${id}/2`, { 'user-agent': agent });
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe('https://sothys.no/serum');
    }
    expect((await click(`/r/${id}/2`, { ...PERSONAL_HEADERS, 'sec-purpose': 'prefetch' })).status).toBe(302);
    expect(await counts()).toEqual(start);
  });

  it('counts no click from a preview or test mail, whose links work for a draft too, and only with the campaign’s own marker', async () => {
    const start = await counts();
    const preview = await request(t.app)
      .get(`/v1/campaigns/${id}/preview`)
      .set('authorization', `Bearer ${t.tokens.campaigns}`);
    const link = /href="http:\/\/kundeklubb\.test(\/r\/\d+\/3\?test=[A-Za-z0-9_-]{22})"/.exec(
      preview.text,
    )![1];
    const r = await click(link);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://sothys.no/app');
    expect(await counts()).toEqual(start);

    t.peer.clear();
    const sent = await request(t.app)
      .post(`/v1/campaigns/${draftId}/test`)
      .set('authorization', `Bearer ${t.tokens.campaigns}`)
      .send({ to: ['testleser@example.no'] });
    expect(sent.status).toBe(200);
    await t.peer.waitFor((m) => m.length >= 1);
    const testMail = String(t.peer.mails[0].parsed.html);
    const draftLink = new RegExp(`${TEST_PUBLIC_URL}(/r/${draftId}/1\\?test=[A-Za-z0-9_-]{22})`).exec(
      testMail,
    )![1];
    expect(testMail).not.toMatch(new RegExp(`/r/${draftId}/\\d+"`));
    expect((await click(draftLink)).headers.location).toBe('https://sothys.no/kveld?by=oslo&dato=3');
    // A draft has no links without its marker: not another campaign's, not a made-up one.
    expect((await click(`/r/${draftId}/1`)).status).toBe(404);
    expect((await click(`/r/${draftId}/1?test=${t.c.testLinks.marker(id)}`)).status).toBe(404);
    expect((await click(`/r/${draftId}/1?test=${'A'.repeat(22)}`)).status).toBe(404);
    expect(await counts(draftId)).toEqual([]);
    expect(await counts()).toEqual(start);
  });

  it('shows a count only from 10 clicks on: null below, in stats with the link’s url, label and block type', async () => {
    const [, second, third] = await counts();
    expect(second).toBe(0);
    for (let i = 0; i < 9; i++) expect((await click(`/r/${id}/2`)).status).toBe(302);
    expect(await clickStats()).toEqual([
      {
        n: 1,
        url: 'https://sothys.no/kveld?by=oslo&dato=3',
        label: 'Meld deg på',
        blockType: 'activity',
        count: null,
      },
      { n: 2, url: 'https://sothys.no/serum', label: 'Les mer', blockType: 'news', count: null },
      { n: 3, url: 'https://sothys.no/app', label: 'Handle i appen', blockType: 'offer', count: null },
    ]);
    await click(`/r/${id}/2`);
    const shown = await clickStats();
    expect(shown.map((k) => k.count)).toEqual([null, 10, null]);
    expect(third).toBe(0);
    // A draft has no link list yet.
    expect(await clickStats(draftId)).toEqual([]);
  });

  it('answers bad input with a plain 404 page, counts nothing and logs nothing but the route pattern', async () => {
    const start = await counts();
    const logsBefore = t.logs.length;
    const huge = `/r/${id}/${'9'.repeat(10_000)}`;
    const bad = [
      `/r/abc/1`,
      `/r/-1/1`,
      `/r/0/1`,
      `/r/${id}/0`,
      `/r/${id}/-1`,
      `/r/${id}/01`,
      `/r/${id}/1.5`,
      `/r/${id}/4`,
      `/r/${id}/99999999999`,
      `/r/99999999999/1`,
      `/r/2147483647/1`,
      `/r/${draftId}/1`,
      `/r/${id}/..%2F..%2Fetc%2Fpasswd`,
      `/r/..%2F${id}/1`,
      huge,
      `/n/kort`,
      `/n/${'A'.repeat(22)}`,
      `/n/${'A'.repeat(10_000)}`,
      `/n/${await publicIdOf(draftId)}`,
    ];
    for (const path of bad) {
      const r = await click(path);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.headers.location).toBeUndefined();
      expect(r.headers['content-type']).toMatch(/^text\/(html|plain)/);
    }
    expect(await counts()).toEqual(start);
    const logs = t.logs.slice(logsBefore).join('\n');
    expect(logs).not.toMatch(/9{20}|A{20}|passwd|etc|abc|kort/);
    expect(logs).toContain('"route":"/r/:campaignId/:n"');
  });

  it('shows the web version: the newsletter as sent, «Hei,» and no one’s unsubscribe link, the same page for everyone', async () => {
    const publicId = await publicIdOf(id);
    expect(publicId).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 random bits, not the id
    expect(await publicIdOf(draftId)).not.toBe(publicId);
    const r = await click(`/n/${publicId}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['cache-control']).toBe('public, max-age=300');
    expect(r.text).toMatch(/>\s*Hei,\s*</);
    expect(r.text).not.toMatch(/Hei Navn|Hei Kari/);
    expect(r.text).not.toContain('/u/');
    expect(r.text).not.toContain('%%KK_');
    expect(r.text).toContain('Du kan melde deg av med lenken nederst i e-posten du fikk.');
    expect(r.text).toContain(`href="${TEST_PUBLIC_URL}/r/${id}/1"`);
    expect(r.text).toContain('Hudpleiekveld i Oslo');
    expect((await click(`/n/${publicId}`, { 'user-agent': 'Mozilla/5.0 Other' })).text).toBe(r.text);

    // Paused still has it; cancelled and draft do not.
    const other = await createCampaign(t, { name: 'Pauset' });
    const otherId = await publicIdOf(other);
    expect((await click(`/n/${otherId}`)).status).toBe(404);
    await createActiveMembers(t, 1, 'pause');
    expect((await campaignAction(t, other, 'send')).status).toBe(202);
    expect((await campaignAction(t, other, 'pause')).status).toBe(200);
    expect((await click(`/n/${otherId}`)).status).toBe(200);
    expect((await campaignAction(t, other, 'cancel')).status).toBe(200);
    expect((await click(`/n/${otherId}`)).status).toBe(404);
    // A cancelled campaign's mails are out there: their links still lead on.
    expect((await click(`/r/${other}/1`)).status).toBe(302);
  });

  it('keeps no IP address, user agent or referrer in any table or log line', async () => {
    const dump = await dumpAllTables(t.c);
    expect(dump).not.toMatch(/203\.0\.113\.77|198\.51\.100\.23|192\.0\.2\.60/);
    expect(dump).not.toMatch(/SpyBrowser|SpyReferrer|webmail\.example/);
    const logs = t.logs.join('\n');
    expect(logs).not.toMatch(/203\.0\.113\.77|198\.51\.100\.23|192\.0\.2\.60|127\.0\.0\.1/);
    expect(logs).not.toMatch(/SpyBrowser|SpyReferrer|webmail\.example/);
    // Nor where the person went.
    expect(logs).not.toMatch(/sothys\.no\/(kveld|serum|app)/);
  });
});
