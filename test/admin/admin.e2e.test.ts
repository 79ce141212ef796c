/// <reference lib="dom" />
import http from 'node:http';
import { type Browser, type Page } from 'playwright-core';
import { describeIfChromium, launchChromium, listenLocal, watchedPage } from '../support/browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { createActiveMembers, newsletterCounts } from '../support/club';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';
import { PASSWORD, staffUser } from './helpers';

/**
 * The admin UI in a real browser (Debian's Chromium through playwright-core) against a real
 * HTTP listener, a delivery worker in-process and a real SMTP peer. SQLite is enough here: the
 * integration suite covers MariaDB.
 */

const SUBJECT = 'Julekalender hos Sothys';

describeIfChromium('admin web UI in Chromium', () => {
  let t: TestApp;
  let worker: BackgroundWorker;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { DOUBLE_OPT_IN: 'false' } });
    worker = new BackgroundWorker({
      logger: t.c.logger,
      jobs: [createDeliveryWorker(t.c, { housekeepingMs: 100, concurrency: 1 })],
    });
    worker.start();
    ({ server, base } = await listenLocal(t.app));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await t?.close();
  });

  // Everything the UI needs comes from the service itself; a CSP violation or a script error is a problem.
  const newPage = () => watchedPage(browser, base, problems);

  async function logIn(page: Page, email: string): Promise<void> {
    await page.goto(`${base}/admin`);
    await page.waitForURL(`${base}/admin/login?next=%2Fadmin`);
    await page.getByLabel('E-postadresse').fill(email);
    await page.getByLabel('Passord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Logg inn' }).click();
    await page.waitForURL(`${base}/admin`);
  }

  const previewHas = (page: Page, ...texts: string[]) =>
    page.waitForFunction(
      (wanted) => {
        const doc =
          (document.querySelector('[data-preview-frame]') as HTMLIFrameElement | null)?.srcdoc ?? '';
        return wanted.every((w) => doc.includes(w));
      },
      texts,
      { timeout: 10_000 },
    );

  it('logs in, builds and sends a campaign, finds a member, erases one from a request; roles and CSRF hold', async () => {
    const adminEmail = await staffUser(t, 'admin', 'kari.admin@cosmenor.no');
    const marketingEmail = await staffUser(t, 'marketing', 'ola.marked@cosmenor.no');
    const members = await createActiveMembers(t, 20, 'e2e');
    const { context, page } = await newPage();

    // ---- log in: the dashboard counts the club ----
    await logIn(page, adminEmail);
    await page.getByText('Aktive medlemmer').waitFor();
    expect(await page.locator('.stat-active .stat-value').textContent()).toBe('20');

    // ---- build a three-block campaign in the editor ----
    await page
      .getByRole('navigation', { name: 'Hovedmeny' })
      .getByRole('link', { name: 'Nyhetsbrev' })
      .click();
    await page.getByRole('link', { name: 'Nytt nyhetsbrev' }).click();
    await page.locator('[name="name"]').fill('Desember');
    await page.locator('[name="subject"]').fill(SUBJECT);
    await page.locator('[name="preheader"]').fill('Tre nyheter og et tilbud');

    await page.getByRole('button', { name: '+ Aktivitet' }).click();
    await page.locator('[name="blocks.0.title"]').fill('Hudpleiekveld i Oslo');
    await page.locator('[name="blocks.0.startsAt"]').fill('2099-12-03T18:00');
    await page.locator('[name="blocks.0.location"]').fill('Karl Johans gate 1, Oslo');
    await page
      .locator('[name="blocks.0.body"]')
      .fill('Velkommen til en kveld med hudpleie.\n\nTa gjerne med en venn.');
    await page.locator('[name="blocks.0.link.url"]').fill('https://sothys.no/kveld');
    await page.locator('[name="blocks.0.link.label"]').fill('Meld deg på');

    await page.getByRole('button', { name: '+ Nyhet' }).click();
    await page.locator('[name="blocks.1.title"]').fill('Nytt serum');
    await page.locator('[name="blocks.1.body"]').fill('Hydra er her.');

    await page.getByRole('button', { name: '+ Tilbud' }).click();
    await page.locator('[name="blocks.2.title"]').fill('20 % på ansiktskremer');
    await page.locator('[name="blocks.2.code"]').fill('JUL20');
    await page.locator('[name="blocks.2.validUntil"]').fill('2099-12-24');

    // The live preview is the real render, with all three blocks.
    await previewHas(page, 'Hudpleiekveld i Oslo', 'Nytt serum', 'JUL20', 'Hei Kari');
    expect(await page.locator('[data-audience-count]').textContent()).toContain(
      '20 medlemmer får dette nyhetsbrevet',
    );

    // Reorder: the offer moves up above the news, and the preview follows; then back down.
    await page.locator('#block-2').getByRole('button', { name: 'Flytt opp' }).click();
    expect(await page.locator('[name="blocks.1.type"]').inputValue()).toBe('offer');
    expect(await page.locator('[name="blocks.1.title"]').inputValue()).toBe('20 % på ansiktskremer');
    await page.waitForFunction(() => {
      const doc = (document.querySelector('[data-preview-frame]') as HTMLIFrameElement).srcdoc;
      return doc.indexOf('JUL20') > 0 && doc.indexOf('JUL20') < doc.indexOf('Nytt serum');
    });
    await page.locator('#block-1').getByRole('button', { name: 'Flytt ned' }).click();
    expect(await page.locator('[name="blocks.2.type"]').inputValue()).toBe('offer');
    // Add one more and remove it again: still three blocks.
    await page.getByRole('button', { name: '+ Nyhet' }).click();
    await page.locator('#block-3').getByRole('button', { name: 'Fjern' }).click();
    expect(await page.locator('[data-block]').count()).toBe(3);

    // Desktop and mobile widths.
    const frame = page.locator('[data-preview-frame]');
    expect((await frame.boundingBox())!.width).toBe(600);
    await page.getByText('Mobil 375 px').click();
    await page.waitForFunction(
      () => document.querySelector('[data-preview-frame]')!.getBoundingClientRect().width === 375,
    );
    await previewHas(page, 'Hudpleiekveld i Oslo', 'Nytt serum', 'JUL20');
    expect(
      await page.frameLocator('[data-preview-frame]').getByText('Hudpleiekveld i Oslo').isVisible(),
    ).toBe(true);

    // ---- a test to the logged-in user's own address ----
    await page.getByRole('button', { name: 'Send test til meg' }).click();
    await page.waitForURL(/\/admin\/campaigns\/\d+\/edit\?melding=test-sendt$/);
    await page.getByText(`Testen er sendt til ${adminEmail}.`).waitFor();
    await t.peer.waitFor((mails) => mails.some((m) => m.rcpt.includes(adminEmail)), 10_000);
    const test = t.peer.mailsTo(adminEmail);
    expect(test).toHaveLength(1);
    expect(test[0].parsed.subject).toBe(`[TEST] ${SUBJECT}`);
    const campaignId = Number(/campaigns\/(\d+)\//.exec(page.url())![1]);
    expect((await t.c.campaigns.get(campaignId)).blocks.map((b) => b.type)).toEqual([
      'activity',
      'news',
      'offer',
    ]);
    expect((await t.c.campaigns.get(campaignId)).blocks[0]).toMatchObject({
      startsAt: '2099-12-03T18:00:00+01:00',
    });

    // ---- send to the 20 members, after the confirmation that says so ----
    await page.getByRole('button', { name: 'Gå videre til sending →' }).click();
    await page.waitForURL(`${base}/admin/campaigns/${campaignId}/send`);
    expect(await page.locator('[data-recipient-count]').textContent()).toContain(
      '20 medlemmer får dette nyhetsbrevet',
    );
    // A slow relay (about 3 s for 20), so the bar is seen moving.
    t.peer.setLatency(150);
    await page.getByRole('button', { name: 'Bekreft utsendelse til 20 medlemmer' }).click();
    await page.waitForURL(new RegExp(`/admin/campaigns/${campaignId}(\\?|$)`));
    // The bar moves in place (the script polls every second, no reload), then reaches 20 and the page ends at «sent».
    await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
    await page.waitForFunction(() => {
      const now = Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow'));
      return (window as unknown as { samePage?: boolean }).samePage === true && now > 0 && now < 20;
    });
    await page.waitForSelector('[role="progressbar"][aria-valuenow="20"][aria-valuemax="20"]', {
      timeout: 30_000,
    });
    t.peer.setLatency(0);
    await page.getByText('Ferdig sendt.').waitFor({ timeout: 15_000 });
    expect(await page.locator('.progress-card [data-stat="sent"]').first().textContent()).toBe('20');
    const counts = newsletterCounts(t, SUBJECT);
    expect(members.every((m) => counts.get(m.email) === 1)).toBe(true);

    // ---- find a member by address ----
    await page
      .getByRole('navigation', { name: 'Hovedmeny' })
      .getByRole('link', { name: 'Medlemmer' })
      .click();
    await page.getByLabel('E-postadresse').fill('E2E7@example.no');
    await page.getByRole('button', { name: 'Søk' }).click();
    await page.getByRole('link', { name: 'e2e7@example.no' }).click();
    await page.getByRole('heading', { name: 'Samtykkehistorikk' }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('e2e7@example.no');
    await page.getByText('Innmelding (samtykke gitt)').waitFor();

    // ---- register an erasure request and erase the member from it ----
    await page
      .getByRole('navigation', { name: 'Hovedmeny' })
      .getByRole('link', { name: 'Personvern' })
      .click();
    await page.getByLabel('Type').selectOption('erasure');
    await page.getByLabel('Personens e-postadresse').fill('e2e3@example.no');
    await page.getByLabel('Merknad').fill('Ba om sletting på e-post.');
    await page.getByRole('button', { name: 'Registrer' }).click();
    await page.getByText('Forespørselen er registrert.').waitFor();
    await page.getByRole('link', { name: 'Slett medlemmet og lukk forespørselen …' }).click();
    await page.getByRole('heading', { name: 'Slette medlemmet permanent?' }).waitFor();
    // A wrong address erases nothing.
    await page.getByLabel('Skriv e-postadressen for å bekrefte').fill('e2e4@example.no');
    await page.getByRole('button', { name: 'Slett permanent' }).click();
    await page.getByText('Ingenting er slettet.').waitFor();
    expect(await t.c.members.findMember(members[3].id)).not.toBeNull();
    await page.getByLabel('Skriv e-postadressen for å bekrefte').fill('e2e3@example.no');
    await page.getByRole('button', { name: 'Slett permanent' }).click();
    await page.getByText('Medlemmet er slettet.').waitFor();
    expect(await t.c.members.findMember(members[3].id)).toBeNull();
    expect(await page.getByText('Ingen åpne forespørsler.').isVisible()).toBe(true);

    // ---- log out; a marketing user cannot reach the privacy pages ----
    await page.getByRole('button', { name: 'Logg ut' }).click();
    await page.getByText('Du er logget ut.').waitFor();
    await logIn(page, marketingEmail);
    expect(
      await page
        .getByRole('navigation', { name: 'Hovedmeny' })
        .getByRole('link', { name: 'Personvern' })
        .count(),
    ).toBe(0);
    const forbidden = await page.goto(`${base}/admin/privacy`);
    expect(forbidden!.status()).toBe(403);
    await page.getByRole('heading', { name: 'Ingen tilgang' }).waitFor();

    // ---- a form posted without its CSRF token is refused ----
    await page.goto(`${base}/admin/campaigns/new`);
    await page.locator('[name="name"]').fill('Uten nøkkel');
    await page.evaluate(() => document.querySelector('#campaign-editor input[name="_csrf"]')!.remove());
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Lagre utkast' }).click(),
    ]);
    expect(refused.status()).toBe(403);
    await page.getByRole('heading', { name: 'Skjemaet ble avvist' }).waitFor();
    expect((await t.c.campaigns.list({ limit: 50 })).items.map((c) => c.name)).not.toContain('Uten nøkkel');

    await context.close();
    // The 403 and 422 pages above log "failed to load resource" for the document; nothing else may
    // (a CSP violation, a script error, a request off the service).
    expect(problems.filter((p) => !/status of (403|422)/.test(p))).toEqual([]);
  }, 90_000);
});
