import crypto from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config';
import type { NewsletterContent } from '../src/newsletter/blocks.schema';
import { compileNewsletter, encodeNewsletter, fillNewsletter } from '../src/newsletter/renderer';
import { SignedTokens } from '../src/tokens/signed-tokens';
import { argInt, printResult, round, runBench, serviceEnv } from './support/bench-env';
import { loadAverage, spread } from './support/rounds';

/**
 * What a newsletter costs the delivery worker per recipient, against MJML per recipient. Prints
 * one JSON line: the compile of a 6-block newsletter (its links through `/r/`, «Vis i nettleser»,
 * as a frozen render has them), done once per campaign; then, per recipient, exactly what
 * DeliveryWorker.deliver does before handing the message to the mailer (src/delivery/delivery.worker.ts):
 * sign the member's unsubscribe token (SignedTokens, the bench's TOKEN_KEYS), build the URL, and
 * `encodeNewsletter` (fill the greeting and the URL, quoted-printable encode the lines that hold
 * them; the other lines were encoded once). `--rounds` rounds of `--recipients` (100,000), median
 * and spread; the parts (sign, encode, and the plain fill the web version uses) timed alone for
 * context. Baseline, same run: MJML compiled for every recipient, then the same sign and encode.
 */

const COMPILE_RUNS = 5;
const BASELINE_RUNS = 50;

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

async function averageMs(runs: number, task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await task();
  return (performance.now() - start) / runs;
}

/** µs per call of `perRecipient` over `n` recipients (member ids 1…n); the sum keeps the work from being optimised away. */
function usPerRecipient(n: number, perRecipient: (memberId: number) => number): { us: number; sum: number } {
  let sum = 0;
  const start = performance.now();
  for (let i = 1; i <= n; i++) sum += perRecipient(i);
  return { us: ((performance.now() - start) * 1000) / n, sum };
}

async function main(): Promise<void> {
  const recipients = argInt('recipients', 100_000);
  const rounds = argInt('rounds', 3);
  // The service's own key parsing, with the key every bench uses.
  const config = loadConfig(serviceEnv('sqlite:unused.sqlite', os.tmpdir(), { PUBLIC_URL: brand.publicUrl }));
  const tokens = new SignedTokens(config.tokenKeys);
  const content = sixBlocks();
  const compile = () => compileNewsletter(content, brand, targets);

  await averageMs(3, compile); // warm-up: template reads, JIT
  const compileMs = await averageMs(COMPILE_RUNS, compile);
  const compiled = await compile();

  const firstName = (memberId: number) => (memberId % 3 === 0 ? null : `Kari${memberId}`);
  const unsubscribeUrl = (memberId: number) =>
    `${config.publicUrl}/u/${tokens.sign({ scope: 'unsubscribe', memberId })}`;
  // What the worker does per recipient. Reading one character of each part stands for the mailer's
  // first read (and keeps V8 from skipping the work).
  const workerPerRecipient = (memberId: number) => {
    const mail = encodeNewsletter(compiled, {
      firstName: firstName(memberId),
      unsubscribeUrl: unsubscribeUrl(memberId),
    });
    const { html, text } = mail.encoded;
    return html.charCodeAt(html.length >> 1) + text.charCodeAt(text.length >> 1);
  };
  const sample = encodeNewsletter(compiled, {
    firstName: 'Kari',
    unsubscribeUrl: unsubscribeUrl(12345),
  }).encoded;

  let sum = 0;
  usPerRecipient(Math.min(recipients, 10_000), workerPerRecipient); // warm-up: JIT, the encode plan
  const perRecipient: number[] = [];
  const parts = { sign: [] as number[], encode: [] as number[], fill: [] as number[] };
  const fixedUrl = unsubscribeUrl(12345);
  for (let r = 0; r < rounds; r++) {
    const whole = usPerRecipient(recipients, workerPerRecipient);
    perRecipient.push(whole.us);
    const sign = usPerRecipient(recipients, (id) => unsubscribeUrl(id).length);
    const encode = usPerRecipient(recipients, (id) => {
      const { html, text } = encodeNewsletter(compiled, {
        firstName: firstName(id),
        unsubscribeUrl: fixedUrl,
      }).encoded;
      return html.charCodeAt(html.length >> 1) + text.charCodeAt(text.length >> 1);
    });
    const fill = usPerRecipient(recipients, (id) => {
      const { html, text } = fillNewsletter(compiled, { firstName: firstName(id), unsubscribeUrl: fixedUrl });
      return html.charCodeAt(html.length >> 1) + text.charCodeAt(text.length >> 1);
    });
    parts.sign.push(sign.us);
    parts.encode.push(encode.us);
    parts.fill.push(fill.us);
    sum += whole.sum + sign.sum + encode.sum + fill.sum;
  }

  // Baseline: MJML (and the text part) compiled for every recipient, then the same sign and encode.
  const baselineMs = await averageMs(BASELINE_RUNS, async () => {
    const memberId = 1 + Math.floor(Math.random() * recipients);
    const mail = encodeNewsletter(await compile(), {
      firstName: 'Kari',
      unsubscribeUrl: unsubscribeUrl(memberId),
    });
    sum += mail.encoded.html.length;
  });
  const baselineUs = baselineMs * 1000;

  if (sum === 0) throw new Error('nothing rendered');
  const whole = spread(perRecipient, 2);
  printResult({
    bench: 'render',
    compileMs: round(compileMs, 2),
    perRecipientUs: whole.median,
    perRecipientUsMin: whole.min,
    perRecipientUsMax: whole.max,
    parts: {
      signUs: spread(parts.sign, 2).median,
      encodeUs: spread(parts.encode, 2).median,
      fillUs: spread(parts.fill, 2).median,
    },
    messageBytes: Buffer.byteLength(sample.html) + Buffer.byteLength(sample.text),
    recipients,
    rounds,
    baselineMjmlPerRecipientUs: round(baselineUs, 1),
    ratio: round(baselineUs / whole.median, 0),
    loadAverage: loadAverage(),
  });
}

runBench(main);
