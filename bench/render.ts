import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NewsletterContent } from '../src/newsletter/blocks.schema';
import { compileNewsletter, fillNewsletter } from '../src/newsletter/renderer';

/**
 * Render once per campaign vs. MJML per recipient. Prints one JSON line:
 * compile time of a 6-block newsletter (its links through `/r/`, «Vis i nettleser», as a frozen
 * render has them), fill time per recipient (unsubscribe URL included) and the per-recipient MJML
 * baseline it replaces.
 */

const RECIPIENTS = 100_000;
const COMPILE_RUNS = 5;
const BASELINE_RUNS = 50;
const TOKEN_POOL = 1_000;

const brand = { publicUrl: 'https://klubb.cosmenor.no', privacyContact: 'post@cosmenor.no' };
const targets = {
  href: (link: { n: number }) => `${brand.publicUrl}/r/1234/${link.n}`,
  webVersionUrl: `${brand.publicUrl}/n/${crypto.randomBytes(16).toString('base64url')}`,
};
const body =
  'Bli med på en kveld om hudpleie for vinterhud.\nVi viser nye produkter og gir råd.\n\n' +
  'Ta gjerne med en venn. Det blir enkel servering.';

function sixBlocks(): NewsletterContent {
  const link = (slug: string, label: string) => ({
    url: `https://sothys.no/${slug}?utm_source=nyhetsbrev`,
    label,
  });
  return {
    subject: 'Julekalender hos Sothys',
    preheader: 'To kvelder, to nyheter og to tilbud',
    blocks: [
      {
        type: 'activity',
        title: 'Hudpleiekveld i Oslo',
        body,
        startsAt: '2026-12-03T18:00:00+01:00',
        location: 'Karl Johans gate 1, Oslo',
        imageUrl: 'https://sothys.no/bilder/oslo.jpg',
        link: link('oslo', 'Meld deg på'),
      },
      {
        type: 'activity',
        title: 'Juleverksted i Bergen',
        body,
        startsAt: '2026-12-10T17:30:00+01:00',
        location: 'Torgallmenningen 2, Bergen',
        imageUrl: 'https://sothys.no/bilder/bergen.jpg',
        link: link('bergen', 'Meld deg på'),
      },
      {
        type: 'news',
        title: 'Ny serum',
        body,
        imageUrl: 'https://sothys.no/bilder/serum.jpg',
        link: link('serum', 'Les mer'),
      },
      {
        type: 'news',
        title: 'Vinterpleie',
        body,
        imageUrl: 'https://sothys.no/bilder/vinter.jpg',
        link: link('vinter', 'Les mer'),
      },
      {
        type: 'offer',
        title: '20 % på ansiktskremer',
        body,
        code: 'JUL20',
        validUntil: '2026-12-24',
        link: link('app', 'Handle i appen'),
      },
      {
        type: 'offer',
        title: 'Gave ved kjøp over 800 kr',
        body,
        validUntil: '2026-12-31',
        link: link('gave', 'Se gaven'),
      },
    ],
  };
}

/** Signed unsubscribe tokens are about 150 base64url characters. */
function randomToken(): string {
  return crypto.randomBytes(112).toString('base64url');
}

async function averageMs(runs: number, task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await task();
  return (performance.now() - start) / runs;
}

async function main(): Promise<void> {
  const content = sixBlocks();
  const compile = () => compileNewsletter(content, brand, targets);

  await averageMs(3, compile); // warm-up: template reads, JIT
  const compileMs = await averageMs(COMPILE_RUNS, compile);

  const compiled = await compile();
  const tokens = Array.from({ length: TOKEN_POOL }, randomToken);
  // Reading a character flattens V8's concatenation rope, as the mailer's first read would;
  // without it the fill would look nearly free. The sum keeps the work from being optimised away.
  let bytes = 0;
  const fillStart = performance.now();
  for (let i = 0; i < RECIPIENTS; i++) {
    const unsubscribeUrl = `${brand.publicUrl}/u/${tokens[i % TOKEN_POOL]}`;
    const mail = fillNewsletter(compiled, { firstName: i % 3 === 0 ? null : 'Kari', unsubscribeUrl });
    bytes += mail.html.charCodeAt(mail.html.length >> 1) + mail.text.charCodeAt(mail.text.length >> 1);
  }
  const fillUsPerRecipient = ((performance.now() - fillStart) * 1000) / RECIPIENTS;

  // Baseline: what rendering MJML (and the text part) for every recipient would cost.
  const baselineMs = await averageMs(BASELINE_RUNS, async () => {
    const unsubscribeUrl = `${brand.publicUrl}/u/${randomToken()}`;
    bytes += fillNewsletter(await compile(), { firstName: 'Kari', unsubscribeUrl }).html.length;
  });
  const baselineMjmlPerRecipientUs = baselineMs * 1000;

  if (bytes === 0) throw new Error('nothing rendered');
  const round = (n: number, digits: number) => Number(n.toFixed(digits));
  console.log(
    JSON.stringify({
      bench: 'render',
      compileMs: round(compileMs, 2),
      fillUsPerRecipient: round(fillUsPerRecipient, 3),
      recipients: RECIPIENTS,
      baselineMjmlPerRecipientUs: round(baselineMjmlPerRecipientUs, 1),
      ratio: round(baselineMjmlPerRecipientUs / fillUsPerRecipient, 0),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
