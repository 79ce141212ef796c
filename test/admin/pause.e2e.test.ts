/// <reference lib="dom" />
import http from 'node:http';
import { type Browser, type Page } from 'playwright-core';
import { describeIfChromium, launchChromium, listenLocal } from '../support/browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createCampaign, insertActiveMembers, waitUntil } from '../support/club';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';
import { PASSWORD, staffUser } from './helpers';

/**
 * «Pause» and «Avbryt utsendelsen» in a real browser, with a slow SEND_RATE and an in-process
 * delivery worker (issue #14): once the page shows the campaign paused or cancelled, no more of
 * its mails reach the relay; the texts and counts follow the real state as it changes.
 */

const MEMBERS = 16;
const SEND_RATE = 3;
/** At SEND_RATE 3 the old worker sent 6 or 7 more in this time after a pause. */
const WATCH_MS = 2500;

describeIfChromium('pause and cancel in the admin UI (Chromium)', () => {
  let t: TestApp;
  let worker: BackgroundWorker;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { SEND_RATE: String(SEND_RATE) }, peerParse: false });
    worker = new BackgroundWorker({
      logger: t.c.logger,
      jobs: [createDeliveryWorker(t.c, { housekeepingMs: 100 })],
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

  afterEach(() => {
    expect(problems).toEqual([]);
  });

  const newsletters = (id: number) => t.peer.mails.filter((m) => m.raw.includes(`<kk.c${id}.m`));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function loggedIn(): Promise<Page> {
    const email = await staffUser(t, 'marketing');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // The newsletter's images live elsewhere: the preview goes without them, offline.
    await context.route('**/*', (route) =>
      route.request().url().startsWith(base) ? route.continue() : route.fulfill({ status: 204 }),
    );
    const page = await context.newPage();
    // A script error, or one of the service's own addresses failing.
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${base}/admin/login`);
    await page.getByLabel('E-postadresse').fill(email);
    await page.getByLabel('Passord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Logg inn' }).click();
    await page.waitForURL(`${base}/admin`);
    return page;
  }

  /**
   * A campaign to every active member (those of earlier tests too) sent through the API, its
   * progress page open once `n` mails went out (the live counter shows them).
   */
  async function sendingPage(page: Page, n: number): Promise<{ id: number; total: number }> {
    const id = await createCampaign(t);
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
    await page.goto(`${base}/admin/campaigns/${id}`);
    await page.waitForFunction(
      (wanted) => Number(document.querySelector('[data-stat="sent"]')?.textContent) >= wanted,
      n,
      { timeout: 20_000 },
    );
    return { id, total: (await t.c.sending.stats(id)).total };
  }

  /** Clicks the button that posts the step; the time the server's answer arrived. */
  async function post(page: Page, action: 'pause' | 'resume' | 'cancel', button: string): Promise<number> {
    const answered = page
      .waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/${action}`))
      .then(() => Date.now());
    await page.getByRole('button', { name: button, exact: true }).click();
    return answered;
  }

  const statValue = async (page: Page, stat: string) =>
    Number((await page.locator(`.stat-row [data-stat="${stat}"]`).textContent())?.replace(/\s/g, ''));

  it('«Pause» stops the sending before the page says so; «Fortsett» sends the rest once, and the page ends without «fortsetter»', async () => {
    await insertActiveMembers(t, MEMBERS, 'pause');
    const page = await loggedIn();
    const { id, total } = await sendingPage(page, 2);

    const answeredAt = await post(page, 'pause', 'Pause');
    await page.getByText('Pauset. Ingen flere sendes før du fortsetter.').waitFor();
    expect(await page.locator('.flash').textContent()).toBe('Utsendelsen er satt på pause.');
    expect(await page.locator('[data-status-badge]').textContent()).toBe('Pauset');
    const shown = newsletters(id).length;
    await sleep(WATCH_MS);
    expect(newsletters(id).filter((m) => m.at > answeredAt)).toHaveLength(0);
    expect(newsletters(id)).toHaveLength(shown);
    // The paused page counts what went out and what waits, and the live polling keeps it so.
    expect(await statValue(page, 'sent')).toBe(shown);
    expect(await statValue(page, 'queued')).toBe(total - shown);
    expect(shown).toBeLessThan(total);

    await post(page, 'resume', 'Fortsett');
    await page.getByText('Utsendelsen fortsetter.').waitFor();
    // The script reloads the page when the send is done, without the confirmation of «Fortsett».
    await page.getByText('Ferdig sendt.').waitFor({ timeout: 30_000 });
    expect(page.url()).toBe(`${base}/admin/campaigns/${id}`);
    expect(await page.locator('.flash').count()).toBe(0);
    expect(await page.locator('[data-status-badge]').textContent()).toBe('Sendt');
    expect(await statValue(page, 'sent')).toBe(total);
    expect(await statValue(page, 'queued')).toBe(0);
    const counts = new Map<string, number>();
    for (const m of newsletters(id)) for (const r of m.rcpt) counts.set(r, (counts.get(r) ?? 0) + 1);
    expect(counts.size).toBe(total);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // Without script the page refreshes itself with the same address: the old confirmation is not shown either.
    await page.goto(`${base}/admin/campaigns/${id}?melding=fortsatt`);
    await page.getByText('Ferdig sendt.').waitFor();
    expect(await page.getByText('Utsendelsen fortsetter.').count()).toBe(0);
    await page.context().close();
  });

  it('«Avbryt utsendelsen» stops the sending; the cancelled page shows nothing queued', async () => {
    await insertActiveMembers(t, MEMBERS, 'avbryt');
    const page = await loggedIn();
    const { id, total } = await sendingPage(page, 2);

    await page.getByRole('link', { name: 'Avbryt utsendelsen' }).click();
    const answeredAt = await post(page, 'cancel', 'Ja, avbryt utsendelsen');
    await page.getByText('Avbrutt. Ingen flere blir sendt.').waitFor();
    expect(await page.locator('.flash').textContent()).toBe('Utsendelsen er avbrutt.');
    const shown = newsletters(id).length;
    await sleep(WATCH_MS);
    expect(newsletters(id).filter((m) => m.at > answeredAt)).toHaveLength(0);
    expect(newsletters(id)).toHaveLength(shown);

    const row = page.locator('.stat-row');
    expect(await row.getByText('I kø', { exact: true }).count()).toBe(0);
    expect(await row.getByText('Ikke sendt (avbrutt)').count()).toBe(1);
    expect(await statValue(page, 'sent')).toBe(shown);
    expect(await statValue(page, 'unsent')).toBe(total - shown);
    expect(shown).toBeLessThan(total);
    // Stays so: the worker finds nothing of it to send.
    await waitUntil(async () => (await t.c.deliveryStore.counts(id)).sending === 0);
    expect(newsletters(id)).toHaveLength(shown);
    await page.context().close();
  });
});
