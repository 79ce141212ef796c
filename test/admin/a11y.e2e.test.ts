/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import fs from 'node:fs';
import http from 'node:http';
import request from 'supertest';
import type { AxeResults } from 'axe-core';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describeIfChromium, launchChromium, listenLocal } from '../support/browser';
import { buildSignUp, linkIn, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { buildCampaign } from '../support/factories';
import {
  campaignAction,
  createCampaign,
  insertActiveMembers,
  runDeliveryWorker,
  stats,
  waitUntil,
} from '../support/club';
import {
  activeMember,
  linkFromMail,
  PRIVACY_RE,
  signUp,
  uniquePerson,
  unsubscribePath,
} from '../privacy/helpers';
import type { BackgroundWorker } from '../../src/worker';
import { login, staffUser } from './helpers';

/**
 * Accessibility as a check (issue #14): axe-core in Chromium on every admin page, every public
 * page and the newsletter, at 1440 px and 390 px, with real data behind each page; then the
 * phone checks (nothing wider than the screen, tables that say they scroll, chart text that can be
 * read, the page colour down to the bottom) and the newsletter's colour contrast, computed.
 */

const WIDTHS = [1440, 390] as const;
const HEIGHT = { 1440: 900, 390: 844 } as const;
/** WCAG 2.2 AA for body text (1.4.3); the check holds every text to it, large or not. */
const AA = 4.5;

/** A page to check: where it is, who opens it, and an optional step that leads to a page behind a form. */
interface Target {
  name: string;
  path: string;
  who: 'staff' | 'anyone';
  then?: (page: Page) => Promise<unknown>;
}

interface Seeded {
  targets: Target[];
  /** The draft's rendered newsletter, as the editor's preview shows it. */
  newsletterHtml: string;
  dashboard: string;
  sentCampaign: string;
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);
/** `2027-01-15T18:00:00+01:00`: 18.00 (Oslo winter time) `days` from now, so never in the past. */
const futureTime = (days: number) => `${inDays(days).toISOString().slice(0, 10)}T18:00:00+01:00`;

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

describeIfChromium('accessibility of the admin, the public pages and the newsletter (axe, Chromium)', () => {
  let t: TestApp;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let bg: BackgroundWorker;
  let staffCookie: string;
  let seeded: Seeded;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    ({ server, base } = await listenLocal(t.app));
    browser = await launchChromium();
    const admin = await staffUser(t, 'admin', 'ingrid.admin@cosmenor.no');
    staffCookie = (await login(t, admin)).cookie.slice('kk_staff='.length);
    seeded = await seed();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await bg?.stop();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await t?.close();
  });

  const api = (token: string) => ({ authorization: `Bearer ${token}` });
  /** A seeding call that must succeed (any 2xx), or the test says which and why. */
  const ok = <R extends { status: number; text: string }>(res: R): R => {
    if (res.status < 200 || res.status > 299) throw new Error(`seeding failed: ${res.status} ${res.text}`);
    return res;
  };

  /** Every kind of page with something on it: members, campaigns in each state, requests, a webhook, live links. */
  async function seed(): Promise<Seeded> {
    const person = uniquePerson('a11y');
    const memberId = await activeMember(t, person);
    await insertActiveMembers(t, 30, 'a11y-medlem');
    const campaign = (name: string) =>
      buildCampaign({
        name,
        subject: `${name}: nytt fra Sothys`,
        blocks: (buildCampaign().blocks as Array<Record<string, unknown>>).map((b) => ({
          ...b,
          imageUrl: undefined,
          ...(b.type === 'activity' ? { startsAt: futureTime(40) } : {}),
          ...(b.type === 'offer' ? { validUntil: futureTime(60).slice(0, 10) } : {}),
        })),
      });

    // Paused before any worker runs, so it stays paused with rows queued.
    const paused = await createCampaign(t, campaign('Pauset brev'));
    ok(await campaignAction(t, paused, 'send'));
    ok(await campaignAction(t, paused, 'pause'));

    bg = runDeliveryWorker(t.c, { housekeepingMs: 100, concurrency: 1 }).bg;
    const sent = await createCampaign(t, campaign('Sendt brev'));
    ok(await campaignAction(t, sent, 'send'));
    await waitUntil(async () => (await stats(t, sent)).status === 'sent', 30_000);
    const scheduled = await createCampaign(t, campaign('Planlagt brev'));
    ok(await campaignAction(t, scheduled, 'send', { scheduledAt: inDays(20).toISOString() }));
    const draft = await createCampaign(t, campaign('Utkast'));
    const newsletterHtml = (await t.c.campaigns.preview(draft, 'html')) as string;

    const requestOf = async (type: string, email: string) => {
      const r = ok(
        await request(t.app)
          .post('/v1/privacy-requests')
          .set(api(t.tokens.privacy))
          .send({
            type,
            email,
            receivedAt: inDays(-2).toISOString(),
            channel: 'email',
            note: 'Ringte kundeservice.',
          }),
      );
      return r.body.id as number;
    };
    const access = await requestOf('access', person.email);
    const erasure = await requestOf('erasure', 'a11y-medlem3@example.no');
    ok(
      await request(t.app)
        .post('/v1/webhooks')
        .set(api(t.tokens.admin))
        .send({ url: 'http://127.0.0.1:9/kundeklubb', events: ['member.created', 'member.erased'] }),
    );

    // The member's own links: the newsletter's web version, the unsubscribe page, the privacy page.
    await t.peer.waitFor((mails) => mails.some((m) => m.rcpt.includes(person.email)), 10_000);
    const mail = t.peer
      .mailsTo(person.email)
      .find((m) => m.parsed.subject === 'Sendt brev: nytt fra Sothys')!;
    const webVersion = linkIn(mail.parsed.html || '', new RegExp(`${TEST_PUBLIC_URL}/n/[A-Za-z0-9_-]+`))!;
    const unsubscribe = unsubscribePath(t, memberId);
    ok(await request(t.app).post(`${unsubscribe}/privacy-link`).type('form').send(''));
    const privacy = await linkFromMail(t, person.email, PRIVACY_RE);
    const pending = uniquePerson('venter');
    ok(await signUp(t, buildSignUp(pending)));
    const confirm = await linkFromMail(t, pending.email, new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`));

    const staff = (name: string, path: string, then?: Target['then']): Target => ({
      name,
      path,
      who: 'staff',
      then,
    });
    const anyone = (name: string, path: string, then?: Target['then']): Target => ({
      name,
      path,
      who: 'anyone',
      then,
    });
    /** The page a form's first button leads to (a POST that answers with a page). */
    const submit = (form: string) => (page: Page) =>
      Promise.all([page.waitForEvent('load'), page.locator(`${form} [type="submit"]`).first().click()]);
    const targets: Target[] = [
      anyone('innlogging', '/admin/login'),
      anyone('innlogging, tomt skjema', '/admin/login', submit('form[action="/admin/login"]')),
      staff('oversikt', '/admin'),
      staff('nyhetsbrev', '/admin/campaigns'),
      staff('nytt nyhetsbrev', '/admin/campaigns/new'),
      staff('redigering', `/admin/campaigns/${draft}/edit`),
      staff('bekreft utsendelse', `/admin/campaigns/${draft}/send`),
      staff('utkast', `/admin/campaigns/${draft}`),
      staff('sendt', `/admin/campaigns/${sent}`),
      staff('pauset', `/admin/campaigns/${paused}`),
      staff('planlagt', `/admin/campaigns/${scheduled}`),
      staff('avbryt planlagt', `/admin/campaigns/${scheduled}/cancel`),
      staff('medlemmer', '/admin/members'),
      staff('medlem', `/admin/members/${memberId}`),
      staff('personvern', '/admin/privacy'),
      staff('forespørsel om innsyn', `/admin/privacy/requests/${access}`),
      staff('forespørsel om sletting', `/admin/privacy/requests/${erasure}`),
      staff('slett fra forespørsel', `/admin/privacy/requests/${erasure}/erase`),
      staff('slett medlem', `/admin/privacy/members/${memberId}/erase`),
      staff('webhooks', '/admin/webhooks'),
      staff('finnes ikke (admin)', '/admin/finnes-ikke'),
      anyone('bekreft medlemskap', confirm),
      anyone('bekreftelseslenke ugyldig', '/c/ugyldig'),
      anyone('meld av', unsubscribe),
      anyone('avmeldingslenke ugyldig', '/u/ugyldig'),
      anyone('dine opplysninger', privacy),
      anyone('slett opplysningene, bekreft', privacy, submit(`form[action="${privacy}/erase"]`)),
      anyone('personvernlenke ugyldig', '/p/ugyldig'),
      anyone('nettversjon', webVersion.slice(TEST_PUBLIC_URL.length)),
      anyone('nettversjon finnes ikke', '/n/finnesikke'),
    ];
    // A page added to the main menu later is checked too.
    const home = await request(t.app).get('/admin').set('Cookie', `kk_staff=${staffCookie}`);
    const menu = /<nav[^>]*Hovedmeny[^>]*>([\s\S]*?)<\/nav>/.exec(home.text)?.[1] ?? '';
    for (const [, href] of menu.matchAll(/href="(\/admin[^"]*)"/g))
      if (!targets.some((x) => x.path === href)) targets.push(staff(`meny: ${href}`, href));
    return { newsletterHtml, dashboard: '/admin', sentCampaign: `/admin/campaigns/${sent}`, targets };
  }

  async function contextFor(width: number, who: Target['who']): Promise<BrowserContext> {
    const context = await browser.newContext({
      viewport: { width, height: HEIGHT[width as keyof typeof HEIGHT] ?? 900 },
    });
    // Images in newsletters point at sothys.no: nothing leaves this machine.
    await context.route('**/*', (route) =>
      route.request().url().startsWith(base) ? route.continue() : route.abort(),
    );
    if (who === 'staff') await context.addCookies([{ name: 'kk_staff', value: staffCookie, url: base }]);
    return context;
  }

  /**
   * Opens each target in its own context (staff or not) and hands the loaded page to `check`; a
   * page that fails (5xx) or sends staff to the login is a finding itself.
   */
  async function visitAll(
    width: number,
    check: (page: Page, target: Target) => Promise<void>,
  ): Promise<string[]> {
    const broken: string[] = [];
    const contexts = {
      staff: await contextFor(width, 'staff'),
      anyone: await contextFor(width, 'anyone'),
    };
    try {
      for (const target of seeded.targets) {
        const page = await contexts[target.who].newPage();
        const res = await page.goto(`${base}${target.path}`);
        if (target.then) await target.then(page);
        if ((res?.status() ?? 0) >= 500) broken.push(`${target.name}: status ${res?.status()}`);
        else if (target.who === 'staff' && page.url().includes('/admin/login'))
          broken.push(`${target.name}: sent to the login`);
        else await check(page, target);
        await page.close();
      }
    } finally {
      await contexts.staff.close();
      await contexts.anyone.close();
    }
    return broken;
  }

  /** axe's serious and critical findings, one line each, with the elements they are about. */
  async function axeFindings(page: Page, where: string): Promise<string[]> {
    // The editor's preview is a sandboxed frame without scripts, where axe cannot run (it would
    // wait for ever); its content is the rendered newsletter, which is checked on its own below.
    // axe itself, in the page: @axe-core/playwright's builder took 2-3 times as long per page
    // (a partial run per frame, then a blank page to merge them).
    await page.evaluate(AXE_SOURCE);
    const results = await page.evaluate(() =>
      (window as unknown as { axe: { run(c: unknown, o: unknown): Promise<AxeResults> } }).axe.run(
        { exclude: [['iframe[sandbox]']] },
        { iframes: false, resultTypes: ['violations'] },
      ),
    );
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${where}: ${v.id} (${v.impact}) ${v.help} → ${v.nodes
            .slice(0, 4)
            .map((n) => n.target.join(' '))
            .join(', ')}`,
      );
  }

  describe.each(WIDTHS)('at %i px', (width) => {
    it('every admin page, public page and the newsletter has no serious or critical axe violation', async () => {
      const findings: string[] = [];
      let checked = 0;
      const broken = await visitAll(width, async (page, target) => {
        findings.push(...(await axeFindings(page, `${target.name} (${target.path})`)));
        checked++;
      });
      expect(broken).toEqual([]);
      const context = await contextFor(width, 'anyone');
      const page = await context.newPage();
      await page.setContent(seeded.newsletterHtml);
      findings.push(...(await axeFindings(page, 'nyhetsbrevet (forhåndsvisning)')));
      await context.close();
      expect(checked).toBe(seeded.targets.length);
      expect(findings).toEqual([]);
    }, 400_000);
  });

  it('fits a 390 px phone: no page wider than the screen; tables and charts that scroll say so and take the keyboard', async () => {
    const tooWide: string[] = [];
    const badScrollers: string[] = [];
    let scrollers = 0;
    const broken = await visitAll(390, async (page, target) => {
      const { scrollWidth, overflowing } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        // Every box holding a table or a chart that scrolls sideways here: it must take the
        // keyboard itself (arrow keys scroll it), be named, and show that it scrolls.
        overflowing: [...document.querySelectorAll<HTMLElement>('body *')]
          .filter((el) => {
            const s = getComputedStyle(el);
            return (
              /auto|scroll/.test(s.overflowX) &&
              el.scrollWidth > el.clientWidth + 1 &&
              !!el.querySelector('table, svg')
            );
          })
          .map((el) => {
            const s = getComputedStyle(el);
            return {
              what: `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`,
              keyboard: el.tabIndex >= 0,
              named: !!(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')),
              cue: /gradient/.test(s.backgroundImage) || s.boxShadow !== 'none',
            };
          }),
      }));
      if (scrollWidth > 390) tooWide.push(`${target.name}: ${scrollWidth} px`);
      for (const o of overflowing) {
        scrollers++;
        if (!o.keyboard || !o.named || !o.cue) badScrollers.push(`${target.name}: ${JSON.stringify(o)}`);
      }
    });
    expect(broken).toEqual([]);
    expect(tooWide).toEqual([]);
    // The members list, the privacy log and the charts are wider than a phone.
    expect(scrollers).toBeGreaterThan(3);
    expect(badScrollers).toEqual([]);
  }, 240_000);

  it.each(WIDTHS)('draws chart text at 12 px or more at %i px', async (width) => {
    const context = await contextFor(width, 'staff');
    const page = await context.newPage();
    const sizes: Array<{ text: string; px: number }> = [];
    for (const path of [seeded.dashboard, seeded.sentCampaign]) {
      await page.goto(`${base}${path}`);
      sizes.push(
        ...(await page.evaluate(() =>
          [...document.querySelectorAll<SVGTextElement>('svg text')].map((el) => {
            const m = el.getScreenCTM()!;
            // The font size in the SVG's units times the scale it is drawn at (a rotation keeps the length of (a, b)).
            return {
              text: el.textContent ?? '',
              px: parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b),
            };
          }),
        )),
      );
    }
    await context.close();
    expect(sizes.length).toBeGreaterThan(10);
    expect(sizes.filter((s) => s.px < 12 - 0.01)).toEqual([]);
  });

  it.each(WIDTHS)('fills the screen with the public pages’ page colour at %i px', async (width) => {
    const context = await contextFor(width, 'anyone');
    const page = await context.newPage();
    // The shortest public page: the white sheet still reaches the bottom of the screen.
    await page.goto(`${base}/u/ugyldig`);
    const { sheetBottom, bodyHeight, viewport } = await page.evaluate(() => ({
      sheetBottom: document.querySelector('main')!.getBoundingClientRect().bottom,
      bodyHeight: document.body.getBoundingClientRect().height,
      viewport: window.innerHeight,
    }));
    await context.close();
    expect(bodyHeight).toBeGreaterThanOrEqual(viewport);
    expect(sheetBottom).toBeGreaterThanOrEqual(viewport);
  });

  it('gives every text of the newsletter a contrast of at least 4.5:1 against its background', async () => {
    const context = await contextFor(600, 'anyone');
    const page = await context.newPage();
    await page.setContent(seeded.newsletterHtml);
    const texts = await page.evaluate(() => {
      const rgba = (c: string): number[] => (c.match(/[\d.]+/g) ?? []).map(Number);
      const luminance = ([r, g, b]: number[]) =>
        [r, g, b]
          .map((v) => v / 255)
          .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
          .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
      /** The first opaque background up the tree (white at the top), as the reader sees it behind the text. */
      const background = (el: Element | null): number[] => {
        for (let e = el; e; e = e.parentElement) {
          const c = rgba(getComputedStyle(e).backgroundColor);
          if (c.length === 4 && c[3] === 0) continue;
          return c;
        }
        return [255, 255, 255];
      };
      const out: Array<{ text: string; color: string; ratio: number }> = [];
      for (const el of document.body.querySelectorAll('*')) {
        const own = [...el.childNodes]
          .filter((n) => n.nodeType === Node.TEXT_NODE)
          .map((n) => n.textContent!.trim())
          .join(' ')
          .trim();
        if (!own || (el as HTMLElement).offsetParent === null) continue;
        const fg = luminance(rgba(getComputedStyle(el).color));
        const bgL = luminance(background(el));
        out.push({
          text: own.slice(0, 60),
          color: getComputedStyle(el).color,
          ratio: Math.round(((Math.max(fg, bgL) + 0.05) / (Math.min(fg, bgL) + 0.05)) * 100) / 100,
        });
      }
      return out;
    });
    await context.close();
    // The texts that were gold on white are among those measured.
    for (const label of ['Aktivitet', 'Nyhet', 'Tilbud', 'Karl Johans gate 1, Oslo', 'Gjelder til'])
      expect(texts.some((x) => x.text.includes(label))).toBe(true);
    expect(texts.filter((x) => x.ratio < AA)).toEqual([]);
  });
});
