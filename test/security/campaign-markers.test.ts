import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { campaignAction, createActiveMembers, createCampaign, stats, waitUntil } from '../support/club';
import { buildCampaign } from '../support/factories';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';

/** Issue #12, finding 1: campaign text must never become a per-recipient slot. */
const FAKE_NONCE = 'abcdef0123456789abcdef01';
const FAKE_UNSUB = `%%KK_${FAKE_NONCE}_UNSUB%%`;
const FAKE_GREETING = `%%KK_${FAKE_NONCE}_GREETING%%`;
const SUBJECT = 'Julekalender hos Sothys';
const unsubscribeUrlOf = (raw: string) => /^List-Unsubscribe:\s+<([^>\s]+)>/im.exec(raw)![1];

describe.each(databaseKinds())('campaign text cannot imitate a placeholder, on %s', (kind) => {
  let t: TestApp;
  let bg: BackgroundWorker | undefined;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
  });
  afterAll(async () => {
    await bg?.stop();
    await t?.close();
  });

  const create = (body: object) =>
    request(t.app).post('/v1/campaigns').set('authorization', `Bearer ${t.tokens.campaigns}`).send(body);

  it.each([
    ['subject', { subject: `Hei ${FAKE_GREETING}` }],
    ['preheader', { preheader: FAKE_UNSUB }],
    ['blocks.0.title', { title: `Kveld ${FAKE_GREETING}` }],
    ['blocks.0.body', { body: `Les mer: ${FAKE_UNSUB}` }],
    ['blocks.0.imageUrl', { imageUrl: `https://evil.example/i.png?u=${FAKE_UNSUB}` }],
    ['blocks.0.location', { location: FAKE_GREETING }],
    ['blocks.0.link.url', { link: { url: `https://evil.example/?u=${FAKE_UNSUB}`, label: 'Meld deg på' } }],
    ['blocks.0.link.label', { link: { url: 'https://sothys.no/kveld', label: FAKE_GREETING } }],
    ['blocks.2.code', { code: '%%kk_x' }],
  ])('refuses placeholder-like text in %s with 422 naming the field', async (field, change) => {
    const base = buildCampaign();
    const blocks = base.blocks.map((b) => ({ ...b }));
    const inBlock = field.startsWith('blocks.');
    if (inBlock) {
      const index = Number(field.split('.')[1]);
      blocks[index] = { ...blocks[index], ...change } as (typeof blocks)[number];
    }
    const body = inBlock ? { ...base, blocks } : { ...base, ...change };
    const r = await create(body);
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: field, message: expect.stringMatching(/%%KK_/) }),
      ]),
    );
  });

  it('fills only the render’s own placeholders when the worker sends a render read back from the database', async () => {
    const members = await createActiveMembers(t, 3, 'marker');
    const id = await createCampaign(t);
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
    // The stored render now holds placeholder-like text in a title, a body, a link URL and a
    // link label, as campaign text written before the schema refused it would.
    const [row] = await t.c.dataSource.query(
      'SELECT compiled_html, compiled_text FROM campaigns WHERE id = ?',
      [id],
    );
    const inject = (s: string) =>
      s
        .replace('Hudpleiekveld i Oslo', `Kveld ${FAKE_GREETING}`)
        .replace('Velkommen til en kveld med hudpleie.', `Se ${FAKE_UNSUB}`)
        .replaceAll(`${TEST_PUBLIC_URL}/r/${id}/1`, `https://evil.example/?u=${FAKE_UNSUB}`)
        .replace('Meld deg på', `Trykk ${FAKE_GREETING}`);
    await t.c.dataSource.query('UPDATE campaigns SET compiled_html = ?, compiled_text = ? WHERE id = ?', [
      inject(row.compiled_html),
      inject(row.compiled_text),
      id,
    ]);
    const worker = createDeliveryWorker(t.c, { retryBaseMs: 100, housekeepingMs: 100, leaseMs: 5000 });
    bg = new BackgroundWorker({ logger: t.c.logger, jobs: [worker] });
    bg.start();
    await waitUntil(async () => (await stats(t, id)).status === 'sent', 30000);

    for (const [i, m] of members.entries()) {
      const mail = t.peer.mailsTo(m.email).find((x) => x.parsed.subject === SUBJECT)!;
      expect(mail).toBeTruthy();
      const html = String(mail.parsed.html);
      const text = String(mail.parsed.text);
      const own = unsubscribeUrlOf(mail.raw);
      for (const part of [html, text]) {
        // The fake placeholders stay literal text; the member's link only in the footer; the
        // greeting only where the greeting goes.
        expect(part).toContain(FAKE_UNSUB);
        expect(part).toContain(FAKE_GREETING);
        expect(part.split(`${TEST_PUBLIC_URL}/u/`).length - 1).toBe(1);
        expect(part).toContain(own);
        expect(part.split(`Hei Navn${i},`).length - 1).toBe(1);
      }
      expect(html).toContain(`https://evil.example/?u=${FAKE_UNSUB}`);
      // No other member's link or name in this member's mail.
      for (const [j, other] of members.entries()) {
        if (j === i) continue;
        expect(html).not.toContain(`Navn${j}`);
        const theirs = t.peer.mailsTo(other.email).find((x) => x.parsed.subject === SUBJECT)!;
        const link = unsubscribeUrlOf(theirs.raw);
        expect(html).not.toContain(link);
      }
    }

    // The preview of the frozen render (what a reviewer sees) shows the same literal text.
    const preview = await request(t.app)
      .get(`/v1/campaigns/${id}/preview`)
      .set('authorization', `Bearer ${t.tokens.campaigns}`);
    expect(preview.text).toContain(FAKE_UNSUB);
    expect(preview.text.split('Hei Kari,').length - 1).toBe(1);
  });
});
