import { blockSchema, newsletterContentSchema } from '../../src/newsletter/blocks.schema';

const activity = {
  type: 'activity',
  title: 'Hudpleiekveld i Oslo',
  body: 'Velkommen!\n\nVi byr på te.',
  startsAt: '2026-12-03T18:00:00+01:00',
  location: 'Karl Johans gate 1, Oslo',
  imageUrl: 'https://sothys.no/kveld.jpg',
  link: { url: 'https://sothys.no/kveld', label: 'Meld deg på' },
};
const news = {
  type: 'news',
  title: 'Ny serum',
  body: 'Lett og fuktgivende.',
  imageUrl: 'https://sothys.no/serum.jpg',
};
const offer = {
  type: 'offer',
  title: '20 % på ansiktskremer',
  code: 'JUL20',
  validUntil: '2026-12-24',
  link: { url: 'https://sothys.no/app', label: 'Handle i appen' },
};

function content(blocks: unknown[], extra: Record<string, unknown> = {}) {
  return { subject: 'Julekalender hos Sothys', preheader: 'Tre nyheter og et tilbud', blocks, ...extra };
}

/** `path: message` for every issue, the shape the API reports. */
function issuesOf(input: unknown): string[] {
  const result = newsletterContentSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('newsletterContentSchema', () => {
  it('accepts the CONTRACT example with all three block types', () => {
    const result = newsletterContentSchema.safeParse(content([activity, news, offer]));
    expect(result.success).toBe(true);
    expect(result.success && result.data.blocks.map((b) => b.type)).toEqual(['activity', 'news', 'offer']);
  });

  it('accepts minimal blocks and a Z offset', () => {
    expect(
      issuesOf(
        content([
          { type: 'activity', title: 'A', startsAt: '2026-12-03T17:00:00Z' },
          { type: 'news', title: 'N' },
          { type: 'offer', title: 'O' },
        ]),
      ),
    ).toEqual([]);
  });

  it('rejects a start time without offset or in another format, at blocks.N.startsAt', () => {
    for (const startsAt of [
      '2026-12-03T18:00:00',
      '2026-12-03',
      '03.12.2026 18:00',
      '2026-12-03 18:00:00+01:00',
    ]) {
      const issues = issuesOf(content([news, { ...activity, startsAt }]));
      expect(issues).toEqual([
        'blocks.1.startsAt: must be an ISO 8601 date-time with offset, e.g. 2026-12-03T18:00:00+01:00',
      ]);
    }
  });

  it('rejects javascript:, data:, relative, http: and other non-https URLs in links and images', () => {
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<b>x</b>',
      '/relativ',
      'ftp://x.no/a',
      'http://sothys.no/kveld',
      'HTTP://sothys.no/kveld',
    ]) {
      expect(issuesOf(content([{ ...activity, link: { url, label: 'Les' }, imageUrl: url }]))).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^blocks\.0\.link\.url: /),
          expect.stringMatching(/^blocks\.0\.imageUrl: /),
        ]),
      );
    }
    expect(issuesOf(content([{ ...news, imageUrl: 'javascript:alert(1)' }]))).toEqual([
      'blocks.0.imageUrl: must be an absolute https:// URL',
    ]);
    expect(issuesOf(content([{ ...news, link: { url: 'http://sothys.no/serum', label: 'Les' } }]))).toEqual([
      'blocks.0.link.url: must be an absolute https:// URL',
    ]);
    expect(issuesOf(content([{ ...news, link: { url: 'HTTPS://sothys.no/serum', label: 'Les' } }]))).toEqual(
      [],
    );
  });

  it('rejects unknown keys at every level', () => {
    expect(issuesOf(content([{ ...news, colour: 'red' }], { name: 'x' }))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^blocks\.0: .*colour/),
        expect.stringMatching(/^: .*name/),
      ]),
    );
    expect(issuesOf(content([{ ...offer, link: { ...offer.link, target: '_blank' } }]))).toEqual([
      expect.stringMatching(/^blocks\.0\.link: .*target/),
    ]);
    // Fields of another block type are unknown keys too.
    expect(issuesOf(content([{ ...news, code: 'JUL20' }]))).toEqual([
      expect.stringMatching(/^blocks\.0: .*code/),
    ]);
  });

  it('rejects an unknown block type', () => {
    expect(issuesOf(content([{ type: 'poll', title: 'x' }]))).toEqual([
      'blocks.0.type: must be one of activity, news, offer',
    ]);
  });

  it('requires a real validUntil date as YYYY-MM-DD', () => {
    for (const validUntil of ['2026-02-30', '2026-13-01', '24.12.2026', '2026-12-24T00:00:00Z']) {
      expect(issuesOf(content([{ ...offer, validUntil }]))).toEqual([
        'blocks.0.validUntil: must be a real date as YYYY-MM-DD, e.g. 2026-12-24',
      ]);
    }
    expect(issuesOf(content([{ ...offer, validUntil: '2028-02-29' }]))).toEqual([]);
  });

  it('enforces lengths', () => {
    expect(issuesOf(content([{ ...offer, code: 'X'.repeat(41) }]))).toEqual([
      'blocks.0.code: must be at most 40 characters',
    ]);
    expect(issuesOf(content([{ ...news, title: 'T'.repeat(201) }]))).toEqual([
      'blocks.0.title: must be at most 200 characters',
    ]);
    expect(issuesOf(content([{ ...news, title: '   ' }]))).toEqual(['blocks.0.title: must not be empty']);
    expect(issuesOf(content([{ ...news, body: 'b'.repeat(5001) }]))).toEqual([
      'blocks.0.body: must be at most 5000 characters',
    ]);
    expect(issuesOf(content([news], { subject: '' }))).toEqual(['subject: must not be empty']);
    expect(issuesOf(content([news], { preheader: 'p'.repeat(201) }))).toEqual([
      'preheader: must be at most 200 characters',
    ]);
  });

  it('requires 1 to 30 blocks', () => {
    expect(issuesOf(content([]))).toEqual(['blocks: must have at least 1 block']);
    expect(issuesOf(content(Array(31).fill(news)))).toEqual(['blocks: must have at most 30 blocks']);
    expect(issuesOf(content(Array(30).fill(news)))).toEqual([]);
  });

  it('keeps the subject and titles on one line', () => {
    expect(issuesOf(content([news], { subject: 'Jul\r\nBcc: x@example.no' }))).toEqual([
      'subject: must be a single line without control characters',
    ]);
    expect(issuesOf(content([{ ...news, title: 'a\nb' }]))).toEqual([
      'blocks.0.title: must be a single line without control characters',
    ]);
  });
});

describe('blockSchema', () => {
  it('trims text and keeps line breaks inside the body', () => {
    const block = blockSchema.parse({ ...news, title: '  Ny serum ', body: ' Første\nlinje\n\nAndre ' });
    expect(block.title).toBe('Ny serum');
    expect(block.body).toBe('Første\nlinje\n\nAndre');
  });
});
