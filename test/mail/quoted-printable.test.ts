import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import type { OutgoingMail } from '../../src/mail/mailer';
import { PreEncodedText, encodeQuotedPrintable } from '../../src/mail/quoted-printable';
import { toMessageOptions } from '../../src/mail/smtp-mailer';
import { compileNewsletter, encodeNewsletter, fillNewsletter } from '../../src/newsletter/renderer';

const FROM = 'Sothys Kundeklubb <nyhetsbrev@cosmenor.no>';
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

/** Builds the message exactly as the adapters do and parses it back as a mail client would. */
async function roundTrip(mail: OutgoingMail): Promise<{ raw: string; html: string; text: string }> {
  const info = await composer.sendMail(toMessageOptions(mail, FROM));
  const raw = (info.message as Buffer).toString('latin1');
  const parsed = await simpleParser(info.message as Buffer);
  return { raw, html: String(parsed.html), text: String(parsed.text) };
}

const lf = (s: string) => s.replace(/\r\n/g, '\n');
/** mailparser drops the final line break of a part body; so does every mail client. */
const body = (s: string) => lf(s).replace(/\n$/, '');

/** Body lines of the message's parts (after the blank line that ends each part's headers). */
function partBodyLines(raw: string): string[] {
  return raw
    .split(/\r\n--/)
    .slice(1)
    .flatMap((part) => part.split('\r\n\r\n').slice(1).join('\r\n\r\n').split('\r\n'));
}

const awkward = [
  'plain ascii',
  'Hei Åse, ære være Øystein og Ærlige Ødegård – «sitat» og 20 % på €',
  'trailing space \nand tab\t\n \n\nblank lines above',
  '= signs == everywhere =3D not an escape, and a lone = at the end=',
  'x'.repeat(75) + 'æ' + 'y'.repeat(200) + ' ' + 'ø'.repeat(90),
  '<a href="https://sothys.no/u/eyJhbGciOiJIUzI1NiJ9.eyJzIjoidSIsIm0iOjEyMzQ1fQ.abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEF">Meld deg av</a>',
  'windows\r\nline\r\nbreaks\r\n',
  '\n\nstarts with breaks and ends with one\n',
  '.dot at the start of a line\n.\n..',
  'emoji 😀 and combining å and a very long word ' + '🙂'.repeat(40),
];

describe('PreEncodedText', () => {
  it.each(awkward.map((t, i) => [i, t]))(
    'text %i decodes back to exactly the filled text',
    async (_i, template) => {
      // Slots at the start, middle and end of lines, and in a line of their own.
      const parts = ['', ` mid ${template} `, '\n', `\nend: ${template}`, ''];
      const slots = ['a', 'b', 'a', 'b'] as const;
      const pre = PreEncodedText.fromPlan(parts, [...slots]);
      const values = { a: 'Hei Åse Ødegård,', b: 'https://kundeklubb.cosmenor.no/u/eyJ=x?a=1&b=2 ' };
      const expected =
        parts[0] + values.a + parts[1] + values.b + parts[2] + values.a + parts[3] + values.b + parts[4];
      const encoded = pre.fill(values);
      expect(encoded).toBe(encodeQuotedPrintable(expected)); // only the slot lines differ per recipient, never the result
      const back = await roundTrip({
        to: 'kari@example.no',
        subject: 's',
        encoded: { html: encoded, text: encoded },
      });
      expect(body(back.text)).toBe(body(expected));
      expect(body(back.html)).toBe(body(expected));
      for (const line of partBodyLines(back.raw)) expect(line.length).toBeLessThanOrEqual(76);
    },
  );

  it('puts a line break inside a slot value on the same line (values are single-line)', async () => {
    const pre = PreEncodedText.fromPlan(['Hei ', '!'], ['name']);
    const back = await roundTrip({
      to: 'kari@example.no',
      subject: 's',
      encoded: { html: pre.fill({ name: 'Kari\r\nBcc: x' }), text: 'x' },
    });
    expect(body(back.html)).toBe('Hei Kari Bcc: x!');
  });

  it('refuses a plan whose parts and slots do not interleave', () => {
    expect(() => PreEncodedText.fromPlan(['a', 'b'], [])).toThrow(/one more part than slots/);
  });
});

describe('encodeNewsletter', () => {
  it('sends the same html and text as fillNewsletter, for awkward names', async () => {
    const compiled = await compileNewsletter(
      {
        subject: 'Julekalender hos Sothys – 20 %',
        preheader: 'Tre nyheter og et tilbud',
        blocks: [
          {
            type: 'news',
            title: 'Ny serum = ære',
            body: 'Lett og fuktgivende. æøå '.repeat(30) + '\n\nAndre avsnitt.',
            link: { url: 'https://sothys.no/serum?a=1&b=2', label: 'Les mer' },
          },
          {
            type: 'offer',
            title: '20 % på ansiktskremer',
            body: 'Bruk koden.',
            code: 'JUL20',
            validUntil: '2026-12-24',
          },
        ],
      },
      { publicUrl: 'https://klubb.cosmenor.no', privacyContact: 'personvern@cosmenor.no' },
    );
    for (const firstName of [
      'Kari',
      'Åse <b>&amp;</b> "Ødegård"',
      null,
      'Ø'.repeat(120),
      ' Ola \n Nordmann ',
    ]) {
      const values = {
        firstName,
        unsubscribeUrl: 'https://klubb.cosmenor.no/u/eyJhbGciOiJIUzI1NiJ9.eyJzIjoidSIsIm0iOjF9.sig-_x',
      };
      const plain = fillNewsletter(compiled, values);
      const pre = encodeNewsletter(compiled, values);
      const viaPlain = await roundTrip({
        to: 'kari@example.no',
        subject: plain.subject,
        html: plain.html,
        text: plain.text,
      });
      const viaPre = await roundTrip({ to: 'kari@example.no', subject: pre.subject, encoded: pre.encoded });
      expect(body(viaPre.html)).toBe(body(plain.html));
      expect(body(viaPre.text)).toBe(body(plain.text));
      expect(body(viaPre.html)).toBe(body(viaPlain.html));
      expect(body(viaPre.text)).toBe(body(viaPlain.text));
      for (const line of partBodyLines(viaPre.raw)) expect(line.length).toBeLessThanOrEqual(76);
    }
  });
});
