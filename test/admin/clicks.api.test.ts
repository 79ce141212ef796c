import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createCampaign } from '../support/club';
import { buildCampaign } from '../support/factories';
import { get, login, staffUser, type Session } from './helpers';

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** The campaign page's clicks per block and the dashboard's comparison (CONTRACT §12). */
describe.each(databaseKinds())('clicks in the admin UI on %s', (kind) => {
  let t: TestApp;
  let s: Session;
  let first: number;
  let second: number;

  const clicks = async (id: number, n: number, times: number) => {
    for (let i = 0; i < times; i++)
      expect((await request(t.app).get(`/r/${id}/${n}`).set('user-agent', BROWSER)).status).toBe(302);
  };

  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
    s = await login(t, await staffUser(t, 'marketing'));
    // No members: each is frozen and sent at once.
    first = await createCampaign(t, { name: 'Oktober' });
    second = await createCampaign(t, {
      name: 'November',
      blocks: [
        ...buildCampaign().blocks,
        { type: 'offer', title: 'Gave ved kjøp', link: { url: 'https://sothys.no/gave', label: 'Se gaven' } },
      ],
    });
    for (const id of [first, second]) expect((await campaignAction(t, id, 'send')).status).toBe(202);
    await clicks(first, 1, 12);
    await clicks(first, 3, 4);
    await clicks(second, 2, 10);
    await clicks(second, 3, 11);
    await clicks(second, 4, 9);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('charts clicks per block on the campaign page, «under 10» where the count is withheld', async () => {
    const page = await get(t, s, `/admin/campaigns/${first}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h2 id="h-clicks">Klikk per blokk</h2>');
    expect(page.text).toMatch(/<svg viewBox="0 0 720 \d+" role="img" aria-labelledby="link-clicks-title"/);
    expect(page.text).toContain('Blokk 1 · Aktivitet: Hudpleiekveld i Oslo – «Meld deg på»');
    expect(page.text).toContain('<title>Blokk 1 · Aktivitet: Hudpleiekveld i Oslo: 12 klikk</title>');
    const rows = [
      ...page.text.matchAll(
        /<tr><th scope="row">(Blokk[^<]*)<\/th><td>([^<]*)<\/td><td class="url">([^<]*)<\/td><td class="num">([^<]*)<\/td><\/tr>/g,
      ),
    ].map((m) => [m[1], m[2], m[3], m[4]]);
    expect(rows).toEqual([
      [
        'Blokk 1 · Aktivitet: Hudpleiekveld i Oslo',
        'Meld deg på',
        'https://sothys.no/kveld?by=oslo&amp;dato=3',
        '12',
      ],
      ['Blokk 2 · Nyhet: Nytt fuktighetsserum', 'Les mer', 'https://sothys.no/serum', 'under 10'],
      ['Blokk 3 · Tilbud: 20 % på ansiktskremer', 'Handle i appen', 'https://sothys.no/app', 'under 10'],
    ]);
    // The 4 clicks on the offer are nowhere to be read.
    expect(page.text).not.toMatch(/>4</);
    const json = await get(t, s, `/admin/campaigns/${first}/stats.json`);
    expect(json.body.clicks.map((k: { count: number | null }) => k.count)).toEqual([12, null, null]);
  });

  it('compares the last campaigns on the dashboard per block type, never adding in a withheld count', async () => {
    const page = await get(t, s, '/admin');
    expect(page.text).toContain('Klikk i de siste nyhetsbrevene');
    expect(page.text).toMatch(/<svg viewBox="0 0 720 240" role="img" aria-labelledby="clicks-chart-title/);
    const rows = [
      ...page.text.matchAll(/<tr><th scope="row">([^<]*)<\/th>((?:<td class="num">[^<]*<\/td>){3})<\/tr>/g),
    ].map((m) => [m[1], ...[...m[2].matchAll(/<td class="num">([^<]*)<\/td>/g)].map((c) => c[1])]);
    // Oldest first; the second's offers: 11 shown, 9 withheld and not added.
    expect(rows).toEqual([
      ['Oktober', '12', 'under 10', 'under 10'],
      ['November', 'under 10', '10', '11'],
    ]);
  });
});
