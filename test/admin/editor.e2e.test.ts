/// <reference lib="dom" />
import http from 'node:http';
import { type Browser, type Dialog, type Locator, type Page } from 'playwright-core';
import { describeIfChromium, launchChromium, listenLocal, watchedPage } from '../support/browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { createCampaign, waitUntil } from '../support/club';
import { PASSWORD, staffUser } from './helpers';

/**
 * The campaign editor in Chromium (issue #14, points 3, 6 and 7): warnings for dates that have
 * passed and the send page's confirmation, autosave and the warning before leaving unsaved work,
 * «Lag kopi», character counters, errors only after a field was left, and a focused field never
 * hidden under the sticky button bar. Set up as test/admin/admin.e2e.test.ts.
 */

describeIfChromium('campaign editor in Chromium', () => {
  let t: TestApp;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let staffEmail: string;
  const problems: string[] = [];

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { DOUBLE_OPT_IN: 'false' } });
    ({ server, base } = await listenLocal(t.app));
    browser = await launchChromium();
    staffEmail = await staffUser(t, 'marketing', 'eva.redaktor@cosmenor.no');
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await t?.close();
  });

  afterEach(() => {
    // The refused send answers 422 (logged as a failed load); nothing else may show up.
    expect(problems.filter((p) => !/status of 422/.test(p))).toEqual([]);
    problems.length = 0;
  });

  async function loggedInPage(): Promise<Page> {
    const { page } = await watchedPage(browser, base, problems, { width: 1440, height: 900 });
    await page.goto(`${base}/admin/login`);
    await page.getByLabel('E-postadresse').fill(staffEmail);
    await page.getByLabel('Passord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Logg inn' }).click();
    await page.waitForURL(`${base}/admin`);
    return page;
  }

  const bar = (page: Page) => page.locator('.editor-actions');

  /** The field is inside the viewport, clear of the sticky bar, and is what is drawn at its centre. */
  async function expectUncovered(page: Page, field: Locator): Promise<void> {
    const box = (await field.boundingBox())!;
    const barBox = (await bar(page).boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(barBox.y);
    const onTop = await field.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return hit === el || el.contains(hit);
    });
    expect(onTop).toBe(true);
  }

  const previewErrors = (page: Page) =>
    page.locator('[data-preview-errors]:not([hidden]) li').allTextContents();

  it('keeps the focused field clear of the sticky bar, counts characters, shows errors after a field is left', async () => {
    const page = await loggedInPage();
    await page.goto(`${base}/admin/campaigns/new`);
    await page.locator('[name="name"]').fill('Februar');
    await page.locator('[name="subject"]').fill('Vinterpleie hos Sothys');
    for (const [i, type] of ['+ Nyhet', '+ Nyhet', '+ Tilbud'].entries()) {
      await page.getByRole('button', { name: type }).click();
      await page.locator(`[name="blocks.${i}.title"]`).fill(`Blokk nummer ${i + 1}`);
    }

    // ---- 7: Tab from the last field to «+ Aktivitet», Enter: neither is hidden under the bar ----
    const lastField = page.locator('[name="blocks.2.link.label"]');
    // The last field just above the bar, so «+ Aktivitet» below it starts out under the bar.
    await lastField.evaluate((el) => {
      const barTop = document.querySelector('.editor-actions')!.getBoundingClientRect().top;
      window.scrollBy(0, el.getBoundingClientRect().bottom - barTop + 4);
      (el as HTMLElement).focus({ preventScroll: true });
    });
    const add = page.getByRole('button', { name: '+ Aktivitet' });
    const addBefore = (await add.boundingBox())!;
    expect(addBefore.y + addBefore.height).toBeGreaterThan((await bar(page).boundingBox())!.y);
    await page.keyboard.press('Tab');
    expect(await add.evaluate((el) => el === document.activeElement)).toBe(true);
    await expectUncovered(page, add);
    await page.keyboard.press('Enter');
    const title = page.locator('[name="blocks.3.title"]');
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'blocks.3.title');
    await expectUncovered(page, title);

    // ---- 6: a new block's errors appear only once its fields were left ----
    await page.locator('[data-preview-status]').getByText('når feltene er fylt ut riktig').waitFor();
    expect((await previewErrors(page)).join(' ')).not.toContain('Blokk 4');
    await page.keyboard.press('Tab'); // leaves the title empty
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-preview-errors] li')].some((li) =>
        li.textContent!.startsWith('Blokk 4 – Tittel: Må fylles ut.'),
      ),
    );
    // The time was not left yet: its error waits.
    expect((await previewErrors(page)).join(' ')).not.toContain('Blokk 4 – Tidspunkt');
    // And the next field Tab reaches is not hidden either.
    await expectUncovered(page, page.locator('[name="blocks.3.startsAt"]'));

    // ---- 6: a long paste is kept whole and the counter says how much is too much ----
    const long = 'Vinterkveld med hudpleie '.repeat(200).slice(0, 5000);
    await title.fill(long);
    expect(await title.inputValue()).toHaveLength(5000);
    const counter = page.locator('#f-blocks-3-title-count');
    await counter.getByText(/^4\s800 tegn for mye$/).waitFor();
    expect(await counter.evaluate((el) => el.classList.contains('over'))).toBe(true);
    expect(await title.getAttribute('aria-describedby')).toContain('f-blocks-3-title-count');
    await title.fill('Vinterkveld');
    await counter.getByText('189 tegn igjen').waitFor();
    await page.locator('#f-name-count').getByText('193 tegn igjen').waitFor();

    // ---- 3: a time that has passed is warned about beside the field ----
    const startsAt = page.locator('[name="blocks.3.startsAt"]');
    const warning = page.locator('#f-blocks-3-startsAt-warning');
    await startsAt.fill('2025-01-13T18:00');
    await warning.getByText('Tidspunktet har allerede vært. Sjekk dato og år.').waitFor();
    await startsAt.fill(`${new Date().getUTCFullYear() + 1}-01-13T18:00`);
    await page.waitForFunction(
      () => document.querySelector('#f-blocks-3-startsAt-warning')!.textContent === '',
    );
    expect(await warning.isVisible()).toBe(false);
    await page.locator('[name="blocks.2.validUntil"]').fill('2025-12-24');
    await page
      .locator('#f-blocks-2-validUntil-warning')
      .getByText('Datoen har allerede vært, så tilbudet er utløpt. Sjekk dato og år.')
      .waitFor();

    await page.context().close();
  }, 60_000);

  it('autosaves, warns before leaving unsaved work, and «Lag kopi» opens a copy', async () => {
    const page = await loggedInPage();
    await page.goto(`${base}/admin/campaigns/new`);
    await page.locator('[name="name"]').fill('Mars');
    await page.locator('[name="subject"]').fill('Vårnytt hos Sothys');
    await page.getByRole('button', { name: '+ Nyhet' }).click();
    await page.locator('[name="blocks.0.title"]').fill('Nytt serum');

    // ---- the new draft saves itself, and the page now is that draft's ----
    const status = page.locator('[data-autosave-status]');
    await status.getByText(/^Lagret kl\. \d{2}\.\d{2}$/).waitFor({ timeout: 10_000 });
    await page.waitForURL(/\/admin\/campaigns\/\d+\/edit$/);
    const id = Number(/campaigns\/(\d+)\/edit/.exec(page.url())![1]);
    expect((await t.c.campaigns.get(id)).blocks).toEqual([{ type: 'news', title: 'Nytt serum' }]);

    // ---- leaving with unsaved changes asks first; staying keeps the work, which is then saved ----
    const dialogs: Dialog[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d);
      void d.dismiss();
    });
    await page.locator('[name="blocks.0.title"]').fill('Nytt serum – nå i butikk');
    await page
      .getByRole('navigation', { name: 'Hovedmeny' })
      .getByRole('link', { name: 'Nyhetsbrev' })
      .click();
    await page.waitForTimeout(300);
    expect(dialogs.map((d) => d.type())).toEqual(['beforeunload']);
    expect(page.url()).toBe(`${base}/admin/campaigns/${id}/edit`);
    expect(await page.locator('[name="blocks.0.title"]').inputValue()).toBe('Nytt serum – nå i butikk');
    await waitUntil(
      async () => (await t.c.campaigns.get(id)).blocks[0].title === 'Nytt serum – nå i butikk',
      10_000,
    );
    await status.getByText(/^Lagret kl\. \d{2}\.\d{2}$/).waitFor();
    // Saved: leaving now asks nothing.
    await page.goto(`${base}/admin/campaigns/${id}/edit`);
    expect(dialogs).toHaveLength(1);

    // ---- «Lag kopi»: a new draft with the same content, opened in the editor ----
    await page.getByRole('button', { name: 'Lag kopi' }).click();
    await page.waitForURL(/\/admin\/campaigns\/\d+\/edit\?melding=kopiert$/);
    const copyId = Number(/campaigns\/(\d+)\/edit/.exec(page.url())![1]);
    expect(copyId).not.toBe(id);
    await page.getByText('Kopien er laget. Du redigerer nå kopien.').waitFor();
    expect(await page.locator('[name="name"]').inputValue()).toBe('Kopi av Mars');
    expect(await page.locator('[name="subject"]').inputValue()).toBe('Vårnytt hos Sothys');
    expect(await page.locator('[name="blocks.0.title"]').inputValue()).toBe('Nytt serum – nå i butikk');
    expect(dialogs).toHaveLength(1);
    expect((await t.c.campaigns.get(copyId)).blocks).toEqual((await t.c.campaigns.get(id)).blocks);

    await page.context().close();
  }, 60_000);

  it('shows the year of past dates and sends them only after the sender confirms', async () => {
    const id = await createCampaign(t, {
      name: 'Gammel invitasjon',
      blocks: [
        { type: 'activity', title: 'Nyttårskveld', startsAt: '2025-01-13T18:00:00+01:00' },
        { type: 'offer', title: 'Julerabatt', code: 'JUL20', validUntil: '2025-12-24' },
      ],
    });
    const page = await loggedInPage();
    await page.goto(`${base}/admin/campaigns/${id}/edit`);
    await page.locator('#f-blocks-0-startsAt-warning').getByText('Tidspunktet har allerede vært.').waitFor();
    // The preview writes the year, since it is not this year.
    await page.frameLocator('[data-preview-frame]').getByText('mandag 13. januar 2025 kl. 18.00').waitFor();
    await page.frameLocator('[data-preview-frame]').getByText('Gjelder til 24. desember 2025').waitFor();

    await page.getByRole('button', { name: 'Gå videre til sending →' }).click();
    await page.waitForURL(`${base}/admin/campaigns/${id}/send`);
    await page.getByRole('heading', { name: 'Datoer som har vært' }).waitFor();
    await page.getByText('aktiviteten «Nyttårskveld»: mandag 13. januar 2025 kl. 18.00').waitFor();
    await page.getByText('tilbudet «Julerabatt»: gjaldt til og med 24. desember 2025').waitFor();

    // Sending without the tick is refused, and nothing is sent.
    await page.getByRole('button', { name: /^Bekreft utsendelse/ }).click();
    await page
      .getByRole('link', {
        name: 'Datoer: Kryss av for at du vil sende med datoer som har vært, eller gå tilbake og rett datoene.',
      })
      .waitFor();
    expect((await t.c.campaigns.get(id)).status).toBe('draft');

    await page.getByLabel('Jeg har sjekket datoene og vil sende likevel').check();
    await page.getByRole('button', { name: /^Bekreft utsendelse/ }).click();
    await page.waitForURL(new RegExp(`/admin/campaigns/${id}\\?melding=sending-startet$`));
    expect((await t.c.campaigns.get(id)).status).not.toBe('draft');

    await page.context().close();
  }, 60_000);
});
