/**
 * Screenshots of the admin web UI for the README: the dashboard, the campaign editor with its
 * live preview, and the progress view of a campaign being sent. Runs the real service (HTTP
 * listener, delivery worker, file outbox) on a throw-away SQLite database with sample data, and
 * drives it with Chromium.
 *
 *   npx tsx scripts/admin-screenshots.ts     (needs Chromium at /usr/bin/chromium or $CHROMIUM_PATH)
 *
 * Writes docs/admin-dashboard.png, docs/admin-editor.png and docs/admin-progress.png.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../src/config';
import { buildContainer, type Container } from '../src/container';
import { migrate } from '../src/db/data-source';
import { toDbTime } from '../src/db/time';
import { createApp } from '../src/app';
import { createDeliveryWorker } from '../src/jobs';
import { createLogger } from '../src/logger';
import { BackgroundWorker } from '../src/worker';
import type { SignUpSource } from '../src/members/member.entity';

const DOCS = path.join(__dirname, '..', 'docs');
const STAFF = { email: 'ingrid.berg@cosmenor.no', password: 'skjermbilder-2026!' };
const FIRST = [
  'Kari',
  'Ingrid',
  'Nora',
  'Emma',
  'Sofie',
  'Ida',
  'Maja',
  'Hanne',
  'Silje',
  'Marte',
  'Anne',
  'Line',
  'Tone',
  'Eli',
  'Hilde',
  'Mona',
];
const LAST = [
  'Nordmann',
  'Hansen',
  'Johansen',
  'Olsen',
  'Larsen',
  'Andersen',
  'Pedersen',
  'Nilsen',
  'Kristiansen',
  'Berg',
  'Haugen',
  'Bakke',
];
const SALONS = ['salong-oslo-sentrum', 'salong-bryggen', 'salong-nidaros', 'salong-stavanger'];

/** A deterministic pseudo-random sequence, so the pictures are the same on every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

async function seed(c: Container): Promise<void> {
  const rand = rng(2026);
  const now = c.clock().getTime();
  const sources: SignUpSource[] = [
    'osme-mobile',
    'osme-mobile',
    'osme-mobile',
    'cosmenor-partner',
    'cosmenor-partner',
    'web',
    'admin',
  ];
  const ids: number[] = [];
  for (let i = 0; i < 240; i++) {
    const first = FIRST[i % FIRST.length];
    const last = LAST[Math.floor(rand() * LAST.length)];
    const source = sources[Math.floor(rand() * sources.length)];
    const { member } = await c.members.signUp({
      email: `${first}.${last}.${i}@example.no`.toLowerCase(),
      firstName: first,
      lastName: last,
      source,
      sourceVersion: source === 'osme-mobile' ? '4.2.0' : source === 'cosmenor-partner' ? '2.8.1' : undefined,
      partnerId:
        source === 'cosmenor-partner' || rand() < 0.3
          ? SALONS[Math.floor(rand() * SALONS.length)]
          : undefined,
      consent: { textVersion: 'kundeklubb-2024-05' },
    });
    ids.push(member.id);
    // Spread the sign-ups over the last twelve weeks, growing towards now (a campaign in the app).
    const ageDays = Math.floor(84 * Math.pow(rand(), 0.8));
    const at = toDbTime(new Date(now - ageDays * 86400000 - Math.floor(rand() * 36000000)));
    await c.dataSource.query(
      'UPDATE members SET created_at = ?, updated_at = ?, confirmed_at = ? WHERE id = ?',
      [at, at, at, member.id],
    );
    await c.dataSource.query('UPDATE consent_events SET occurred_at = ?, given_at = ? WHERE member_id = ?', [
      at,
      at,
      member.id,
    ]);
  }
  for (const id of ids.filter(() => rand() < 0.09)) {
    await c.members.leave(id, 'app');
    const at = toDbTime(new Date(now - Math.floor(rand() * 70) * 86400000));
    await c.dataSource.query(
      `UPDATE consent_events SET occurred_at = ? WHERE member_id = ? AND type = 'withdrawal'`,
      [at, id],
    );
  }
  for (const id of ids.filter(() => rand() < 0.03)) await c.privacy.restrict(id, true).catch(() => undefined);
  // A few sign-ups still waiting for their confirmation link.
  await c.dataSource.query(
    `UPDATE members SET status = 'pending', confirmed_at = NULL WHERE id IN (${ids.slice(-9).join(',')}) AND status = 'active'`,
  );
}

const BLOCKS = [
  {
    type: 'activity' as const,
    title: 'Hudpleiekveld i Oslo',
    body: 'Bli med på en kveld med hudpleie for vintersesongen. Våre hudterapeuter viser hvordan du beskytter huden mot kulde og tørr inneluft.\n\nVi byr på te og noe godt. Ta gjerne med en venn.',
    startsAt: '2026-12-03T18:00:00+01:00',
    location: 'Sothys Institutt, Karl Johans gate 1, Oslo',
    link: { url: 'https://sothys.no/arrangementer/hudpleiekveld-oslo', label: 'Meld deg på' },
  },
  {
    type: 'news' as const,
    title: 'Hydra Hyaluronic Acid⁴: nytt fuktserum',
    body: 'Et lett serum med fire typer hyaluronsyre som gir huden fukt i flere lag. Passer alle hudtyper, morgen og kveld.',
    link: { url: 'https://sothys.no/produkter/hydra-serum', label: 'Les mer' },
  },
  {
    type: 'offer' as const,
    title: '20 % på alle ansiktskremer',
    body: 'Gjør klar huden til jul: bruk koden i Sothys-appen eller vis den i salongen.',
    code: 'JUL20',
    validUntil: '2026-12-24',
    link: { url: 'https://sothys.no/app', label: 'Handle i appen' },
  },
];

async function login(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('E-postadresse').fill(STAFF.email);
  await page.getByLabel('Passord').fill(STAFF.password);
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await page.waitForURL(`${base}/admin`);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-shots-'));
  const config = loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
    SMTP_URL: `file:${path.join(dir, 'outbox')}`,
    PUBLIC_URL: 'https://klubb.cosmenor.no',
    TOKEN_KEYS: 'k1:screenshot-secret-0123456789abcdef0123',
    DATA_DIR: dir,
    DOUBLE_OPT_IN: 'false',
    LOG_LEVEL: 'silent',
  });
  const c = buildContainer(config, { logger: createLogger('silent') });
  await c.dataSource.initialize();
  await migrate(c.dataSource);
  await c.staff.users.create(STAFF.email, 'admin', STAFF.password);
  await seed(c);

  const november = await c.campaigns.create({
    name: 'November 2026',
    subject: 'Nyheter fra Sothys i november',
    blocks: [BLOCKS[1]],
  });
  await c.sending.send(november.id);
  const desember = await c.campaigns.create({
    name: 'Desember 2026',
    subject: 'Julekalender hos Sothys',
    preheader: 'Hudpleiekveld i Oslo, nytt serum og 20 % på ansiktskremer',
    audience: { sources: ['osme-mobile', 'cosmenor-partner'] },
    blocks: BLOCKS,
  });
  await c.campaigns.create({ name: 'Januar 2027', subject: 'Godt nytt hudår', blocks: [BLOCKS[1]] });

  // A slow worker, so the progress view is caught mid-way.
  const worker = new BackgroundWorker({
    logger: c.logger,
    jobs: [createDeliveryWorker(c, { sendRate: 12, concurrency: 2, housekeepingMs: 200 })],
  });
  worker.start();
  const server = http.createServer(createApp(c));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
      locale: 'nb-NO',
    });
    // Nothing leaves the machine: only the service itself is reachable.
    await context.route('**/*', (route) =>
      route.request().url().startsWith(base) ? route.continue() : route.abort(),
    );
    const page = await context.newPage();
    await login(page, base);
    // Wait until November is done, then start December, so the dashboard shows one in progress.
    for (let i = 0; i < 600 && (await c.campaigns.get(november.id)).status !== 'sent'; i++)
      await new Promise((r) => setTimeout(r, 100));
    await c.sending.send(desember.id);
    await new Promise((r) => setTimeout(r, 3000));

    await page.goto(`${base}/admin`);
    await page.screenshot({ path: path.join(DOCS, 'admin-dashboard.png'), fullPage: true });

    await page.goto(`${base}/admin/campaigns/${desember.id}`);
    await page.waitForFunction(
      () => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')) > 40,
    );
    await page.screenshot({ path: path.join(DOCS, 'admin-progress.png'), fullPage: true });

    // The editor: a new draft built like marketing would, with the live preview beside it.
    const draft = await c.campaigns.create({
      name: 'Desember 2026 – påminnelse',
      subject: 'Siste sjanse: 20 % på ansiktskremer',
      preheader: 'Koden JUL20 gjelder til julaften',
      audience: { sources: ['osme-mobile'] },
      blocks: [BLOCKS[2], BLOCKS[0]],
    });
    await page.setViewportSize({ width: 1440, height: 1500 });
    await page.goto(`${base}/admin/campaigns/${draft.id}/edit`);
    await page.getByRole('button', { name: '+ Nyhet' }).click();
    await page.locator('[name="blocks.2.title"]').fill('Gavetips: Sothys julekalender');
    await page
      .locator('[name="blocks.2.body"]')
      .fill('24 luker med hudpleie og velvære, fra rens til kroppspleie. Begrenset antall.');
    await page.waitForFunction(() =>
      (document.querySelector('[data-preview-frame]') as HTMLIFrameElement | null)?.srcdoc.includes(
        'Gavetips',
      ),
    );
    await page.locator('[name="blocks.2.body"]').blur();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(DOCS, 'admin-editor.png') });

    for (const f of ['admin-dashboard.png', 'admin-editor.png', 'admin-progress.png'])
      process.stdout.write(`docs/${f}\n`);
  } finally {
    await browser.close();
    await worker.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await c.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
