/// <reference lib="dom" />
import http from 'node:http';
import { type Browser, type Page } from 'playwright-core';
import { describeIfChromium, launchChromium, listenLocal } from '../support/browser';
import { startTestApp, type TestApp } from '../support/test-app';
import { createActiveMembers } from '../support/club';
import { PASSWORD, staffUser } from './helpers';

/**
 * Issue #14 point 4: every message staff see in the admin, and members on the public pages, is
 * Norwegian. The test walks the admin's forms in Chromium with bad input, as a new employee would
 * type it, and reads each page the way a person does (its visible text): errors must be shown, and
 * none of them in English.
 */

/** Words of zod's and the API's English that must never reach a person. */
const ENGLISH =
  /\b(invalid|expected|required|must|should|offset|erased|received|undefined|null|NaN|unknown|string|number|too (big|small)|characters|field\(s\)|not found|error)\b/i;

describeIfChromium('messages in the admin and on the public pages, in Chromium', () => {
  let t: TestApp;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  const pagesRead: string[] = [];

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { DOUBLE_OPT_IN: 'false' } });
    ({ server, base } = await listenLocal(t.app));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await t?.close();
  });

  /** The page's visible text holds errors (when `errors`), and no English word among them. */
  async function readNorwegian(where: string, opts: { errors: boolean } = { errors: true }): Promise<string> {
    await page.waitForLoadState('load');
    // Codes set in <code> (event names for the apps' developers, commands) are identifiers, not messages.
    const text = await page.evaluate(() => {
      const codes = [...document.querySelectorAll('code')];
      for (const c of codes) c.style.display = 'none';
      const visible = document.body.innerText;
      for (const c of codes) c.style.display = '';
      return visible;
    });
    pagesRead.push(where);
    const english = text.split('\n').filter((line) => ENGLISH.test(line));
    expect([where, english]).toEqual([where, []]);
    if (opts.errors)
      expect([where, await page.locator('.error-summary, .field-error').count()]).not.toEqual([where, 0]);
    return text;
  }

  /** Submits the form holding `selector`, without the browser's own checks (a person's typing, not a script's). */
  async function submitForm(selector: string, button?: string): Promise<void> {
    await page.locator(selector).evaluate((el) => {
      (el.closest('form') as HTMLFormElement).noValidate = true;
    });
    await Promise.all([
      page.waitForNavigation(),
      button
        ? page.getByRole('button', { name: button }).click()
        : page.locator(selector).evaluate((el) => (el.closest('form') as HTMLFormElement).requestSubmit()),
    ]);
  }

  it('walks every form with bad input and finds only Norwegian', async () => {
    const adminEmail = await staffUser(t, 'admin');
    const [kari, ola] = await createActiveMembers(t, 2, 'meldinger');

    // ---- login: empty, then the right password ----
    await page.goto(`${base}/admin/login`);
    await submitForm('[name="email"]', 'Logg inn');
    expect(await readNorwegian('login, empty')).toContain('Må fylles ut.');
    await page.getByLabel('E-postadresse').fill(adminEmail);
    await page.getByLabel('Passord').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(`${base}/admin`),
      page.getByRole('button', { name: 'Logg inn' }).click(),
    ]);

    // ---- member search ----
    await page.goto(`${base}/admin/members`);
    await page.getByLabel('Navn eller e-postadresse').fill('å');
    await submitForm('[name="q"]', 'Søk');
    expect(await readNorwegian('search, one letter')).toContain('Skriv minst 2 bokstaver eller tall.');
    await page.goto(
      `${base}/admin/members?email=ikke-en-adresse&status=slettet&cursor=x1&partnerId=%E2%80%AE`,
    );
    await readNorwegian('search, forged query');

    // ---- registering a request ----
    await page.goto(`${base}/admin/privacy`);
    await page.getByLabel('Personens e-postadresse').fill('ikke-en-adresse');
    await page.getByLabel('Mottatt (norsk tid)').fill('');
    await page.getByLabel('Merknad').fill('x'.repeat(2500));
    await submitForm('[name="email"]', 'Registrer');
    const registered = await readNorwegian('register, bad address, no time, long note');
    expect(registered).toContain('Må være en gyldig e-postadresse.');
    expect(registered).toContain('Må være en dato og et klokkeslett.');
    expect(registered).toContain('Kan ha høyst 2000 tegn.');
    await page.getByLabel('Personens e-postadresse').fill(kari.email);
    await page.getByLabel('Mottatt (norsk tid)').fill('2999-01-01T10:00');
    await page.getByLabel('Merknad').fill('');
    await page.locator('[name="channel"]').evaluate((el) => {
      (el as HTMLSelectElement).add(new Option('forfalsket kanal', 'ikke en kanal', true, true));
    });
    await page.locator('[name="type"]').evaluate((el) => {
      (el as HTMLSelectElement).add(new Option('ukjent', 'unknown', true, true));
    });
    await submitForm('[name="email"]', 'Registrer');
    expect(await readNorwegian('register, forged choices')).toContain('Velg en kanal.');
    await page.locator('[name="type"]').selectOption('access');
    await page.locator('[name="channel"]').selectOption('email');
    await page.getByLabel('Personens e-postadresse').fill(kari.email);
    await page.getByLabel('Mottatt (norsk tid)').fill('2999-01-01T10:00');
    await submitForm('[name="email"]', 'Registrer');
    expect(await readNorwegian('register, future time')).toContain('Kan ikke være frem i tid.');

    // ---- a rectification request: correcting with bad input, closing without an outcome ----
    await page.locator('[name="type"]').selectOption('rectification');
    await page.locator('[name="channel"]').selectOption('email');
    await page.getByLabel('Personens e-postadresse').fill(kari.email);
    await page.getByLabel('Mottatt (norsk tid)').fill('2026-11-20T10:00');
    await Promise.all([
      page.waitForURL(/\/admin\/privacy\/requests\/\d+/),
      page.getByRole('button', { name: 'Registrer' }).click(),
    ]);
    const requestUrl = page.url().replace(/\?.*$/, '');
    await page.getByLabel('Telefon').fill('ring meg');
    await page.getByLabel('Fornavn').evaluate((el) => {
      (el as HTMLInputElement).removeAttribute('maxlength');
      (el as HTMLInputElement).value = 'Kari\u202Enoe';
    });
    await page.getByLabel('Etternavn').evaluate((el) => {
      (el as HTMLInputElement).removeAttribute('maxlength');
      (el as HTMLInputElement).value = 'N'.repeat(150);
    });
    await submitForm('[name="phone"]', 'Lagre rettingen');
    const rectified = await readNorwegian('rectify, bad phone, bidi name, long name');
    expect(rectified).toContain('Må være et telefonnummer');
    expect(rectified).toContain('Må være én linje uten kontrolltegn.');
    expect(rectified).toContain('Kan ha høyst 100 tegn.');
    await page.goto(requestUrl);
    await submitForm('[name="outcome"]', 'Lukk forespørselen');
    expect(await readNorwegian('close without an outcome')).toContain('Velg et utfall.');

    // ---- an erasure request: the wrong address, then the right one; the outcome in Norwegian ----
    await page.goto(`${base}/admin/privacy`);
    await page.locator('[name="type"]').selectOption('erasure');
    await page.getByLabel('Personens e-postadresse').fill(ola.email);
    await Promise.all([
      page.waitForURL(/\/admin\/privacy\/requests\/\d+/),
      page.getByRole('button', { name: 'Registrer' }).click(),
    ]);
    const erasureUrl = page.url().replace(/\?.*$/, '');
    await page.getByRole('link', { name: 'Slett medlemmet og lukk forespørselen …' }).click();
    await page.getByLabel('Skriv e-postadressen for å bekrefte').fill(kari.email);
    await submitForm('[name="confirmEmail"]', 'Slett permanent');
    await readNorwegian('erase, wrong address');
    await page.getByLabel('Skriv e-postadressen for å bekrefte').fill(ola.email);
    await Promise.all([
      page.waitForURL(`${base}/admin/privacy?melding=slettet`),
      page.getByRole('button', { name: 'Slett permanent' }).click(),
    ]);
    expect(await readNorwegian('the log after an erasure', { errors: false })).toContain('Slettet');
    await page.goto(erasureUrl);
    expect(await readNorwegian('the erasure request, closed', { errors: false })).toMatch(/Utfall\s+Slettet/);

    // ---- a campaign with bad blocks ----
    await page.goto(`${base}/admin/campaigns/new`);
    await page.locator('[name="subject"]').fill('x'.repeat(250));
    await page.getByRole('button', { name: '+ Aktivitet' }).click();
    await page.locator('[name="blocks.0.link.url"]').fill('ftp://sothys.no');
    await page.getByRole('button', { name: '+ Tilbud' }).click();
    // What a browser without a date picker lets anyone type.
    for (const [name, value] of [
      ['blocks.0.startsAt', 'i morgen kl 18'],
      ['blocks.1.validUntil', '2026-02-30'],
    ])
      await page.locator(`[name="${name}"]`).evaluate((el, v) => {
        (el as HTMLInputElement).type = 'text';
        (el as HTMLInputElement).value = v;
      }, value);
    await submitForm('[name="name"]', 'Lagre utkast');
    const editor = await readNorwegian('campaign editor, bad blocks');
    expect(editor).toContain('Må være en dato og et klokkeslett.');
    expect(editor).toContain('Må være en gyldig dato.');

    // ---- a webhook receiver with a bad address and no events ----
    await page.goto(`${base}/admin/webhooks`);
    await page.locator('[name="url"]').fill('ikke en adresse');
    await page.locator('[name="sources"]').fill('ukjent-kilde');
    await submitForm('[name="url"]');
    await readNorwegian('webhook, bad address');

    // ---- the public pages a member opens with a broken link ----
    for (const path of ['/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/u/ikke-et-token', '/p/ikke-et-token']) {
      await page.goto(`${base}${path}`);
      await readNorwegian(`public ${path}`, { errors: false });
    }
    expect(pagesRead.length).toBeGreaterThanOrEqual(15);
  });
});
