/// <reference lib="dom" />
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { describeIfChromium, launchChromium, listenLocal, watchedPage } from '../support/browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { PASSWORD, staffUser } from '../admin/helpers';
import { formatCount } from '../../src/admin/views/layout';
import { EVIDENCE, FIXTURES, csv, memberByEmail } from './helpers';

/**
 * The Import page in a real browser (Debian's Chromium through playwright-core): choose the file,
 * check it, choose it again, «Importer», the progress bar followed by the page's script, the
 * final report. No request leaves the service, no script error, no CSP violation.
 */

describeIfChromium('admin Import page in Chromium', () => {
  let t: TestApp;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let dir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { IMPORT_BATCH_SIZE: '100' } });
    ({ server, base } = await listenLocal(t.app));
    browser = await launchChromium();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-import-e2e-'));
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('check, import, follow the progress, read the report', async () => {
    const email = await staffUser(t, 'admin', 'kari.import@cosmenor.no');
    // Big enough that the import runs a while (batches of 100), with a bad row at row 3.
    const rows = Array.from({ length: 15_000 }, (_v, i) => [
      `nettleser.${i}@example.no`,
      'Åse',
      'Ødegård',
      ...EVIDENCE,
    ]);
    rows.splice(1, 0, ['ikke-en-adresse', 'Feil', 'Rad', ...EVIDENCE]);
    const file = path.join(dir, 'medlemmer.csv');
    fs.writeFileSync(file, '\ufeff' + csv(rows));

    const { context, page } = await watchedPage(browser, base, problems);

    await page.goto(`${base}/admin/login`);
    await page.getByLabel('E-postadresse').fill(email);
    await page.getByLabel('Passord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Logg inn' }).click();
    await page.waitForURL(`${base}/admin`);

    await page.getByRole('navigation', { name: 'Hovedmeny' }).getByRole('link', { name: 'Import' }).click();
    await page.getByText('Høyst 100 MB').first().waitFor();
    await page.getByLabel('CSV-fil').setInputFiles(file);
    await page.getByRole('button', { name: 'Kontroller filen' }).click();

    await page.getByRole('heading', { name: 'Kontroll av filen' }).waitFor();
    expect(await page.locator('dt:has-text("Nye aktive medlemmer") + dd').textContent()).toBe(
      formatCount(15_000),
    );
    expect(await page.locator('#h-errors ~ .table-wrap tbody tr').first().textContent()).toContain('3');
    expect(await memberByEmail(t, 'nettleser.0@example.no')).toBeUndefined();

    await page.getByLabel('Den samme filen en gang til').setInputFiles(file);
    await page.getByRole('button', { name: 'Importer' }).click();
    await page.waitForURL(/\/admin\/imports\/\d+$/);
    // Running: the bar; the page's script moves it, then shows the final report when it has ended.
    const bar = page.getByRole('progressbar', { name: 'Andel av filen lest' });
    const finished = page.getByText(`Importen er ferdig. ${formatCount(15_000)} nye medlemmer.`);
    // On a fast machine the import can end before the page has shown its bar: then only the report.
    await bar.or(finished).first().waitFor({ timeout: 60_000 });
    // Read without waiting: the script may already have moved on, or be reloading into the final
    // report (a navigation mid-read counts as moved on).
    const valueNow = () =>
      page
        .evaluate(() => document.querySelector('[data-progress]')?.getAttribute('aria-valuenow') ?? null)
        .catch(() => 'navigated');
    const first = await valueNow();
    const deadline = Date.now() + 60_000;
    let now = first;
    while (now === first && first !== null && first !== 'navigated' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await valueNow();
    }
    expect(now === first && first !== null && first !== 'navigated').toBe(false);
    await finished.waitFor({ timeout: 60_000 });
    expect(await page.locator('dt:has-text("Hoppet over: feil i raden") + dd').textContent()).toBe('1');
    expect(await memberByEmail(t, 'nettleser.14999@example.no')).toMatchObject({ first_name: 'Åse' });
    expect(fs.existsSync(path.join(FIXTURES, 'medlemmer.csv'))).toBe(false);
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
