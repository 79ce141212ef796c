/**
 * Renders a sample newsletter the way members get it and saves full-page screenshots at desktop
 * (600 px) and phone (375 px) width to docs/, for the README.
 *
 *   npx tsx scripts/screenshots.ts          (needs Chromium at /usr/bin/chromium or $CHROMIUM_PATH)
 */
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { NewsletterContent } from '../src/newsletter/blocks.schema';
import { compileNewsletter, fillNewsletter } from '../src/newsletter/renderer';

const brand = { publicUrl: 'https://klubb.cosmenor.no', privacyContact: 'post@cosmenor.no' };

// No images: the screenshot runs offline, and a broken image would misrepresent the layout.
const sample: NewsletterContent = {
  subject: 'Desember hos Sothys: hudpleiekveld, nytt serum og julerabatt',
  preheader: 'Bli med på hudpleiekveld i Oslo, og bruk koden JUL20 før jul.',
  blocks: [
    {
      type: 'activity',
      title: 'Hudpleiekveld i Oslo',
      body:
        'Bli med på en kveld med hudpleie for vintersesongen. Våre hudterapeuter viser hvordan du ' +
        'beskytter huden mot kulde og tørr inneluft, og du får prøve nyhetene før alle andre.\n\n' +
        'Vi byr på te og noe godt. Ta gjerne med en venn.',
      startsAt: '2026-12-03T18:00:00+01:00',
      location: 'Sothys Institutt, Karl Johans gate 1, Oslo',
      link: { url: 'https://sothys.no/arrangementer/hudpleiekveld-oslo', label: 'Meld deg på' },
    },
    {
      type: 'news',
      title: 'Hydra Hyaluronic Acid⁴: nytt fuktserum',
      body:
        'Et lett serum med fire typer hyaluronsyre som gir huden fukt i flere lag. ' +
        'Passer alle hudtyper, morgen og kveld, under dagkremen.',
      link: { url: 'https://sothys.no/produkter/hydra-serum', label: 'Les mer' },
    },
    {
      type: 'offer',
      title: '20 % på alle ansiktskremer',
      body: 'Gjør klar huden til jul: bruk koden i Sothys-appen eller vis den i salongen.',
      code: 'JUL20',
      validUntil: '2026-12-24',
      link: { url: 'https://sothys.no/app', label: 'Handle i appen' },
    },
    {
      type: 'activity',
      title: 'Julemarked i salongen',
      body: 'Gaveinnpakning, smaksprøver og personlig hudanalyse. Drop-in hele dagen.',
      startsAt: '2026-12-12T11:00:00+01:00',
      location: 'Salong Bryggen, Bergen',
      link: { url: 'https://sothys.no/arrangementer/julemarked-bergen', label: 'Se programmet' },
    },
    {
      type: 'news',
      title: 'Gavetips: Sothys julekalender',
      body: '24 luker med hudpleie og velvære, fra rens til kroppspleie. Begrenset antall.',
      link: { url: 'https://sothys.no/jul/kalender', label: 'Se kalenderen' },
    },
    {
      type: 'offer',
      title: 'Gratis håndkrem ved kjøp over 800 kr',
      body: 'Når du handler for over 800 kr hos en Sothys-salong, får du en håndkrem i gave.',
      validUntil: '2026-12-31',
    },
  ],
};

const WIDTHS = [600, 375];

async function main(): Promise<void> {
  const compiled = await compileNewsletter(sample, brand);
  const { html } = fillNewsletter(compiled, {
    firstName: 'Kari',
    unsubscribeUrl: `${brand.publicUrl}/u/forhandsvisning`,
  });

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
    for (const width of WIDTHS) {
      const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
      // Nothing leaves the machine: the sample has no remote resources, and anything else is refused.
      await page.route('**/*', (route) => route.abort());
      await page.setContent(html, { waitUntil: 'load' });
      const file = path.join(__dirname, '..', 'docs', `newsletter-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      await page.close();
      process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
