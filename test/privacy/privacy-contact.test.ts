import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { linkFromMail, PRIVACY_RE, signUp, uniquePerson, unsubscribePath } from './helpers';

const CONTACT = 'personvern.test@sothys-kundeklubb.no';
const CONFIRM_RE = new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`);

/**
 * `PRIVACY_CONTACT` (here not the default) is the address every mail and page names for privacy
 * questions; and the hash recorded with a consent is the SHA-256 of the consent text file itself.
 */
describe.each(databaseKinds())('the privacy contact and the consent text on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { PRIVACY_CONTACT: CONTACT } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const bodies = (m: { parsed: { html?: string | false; text?: string } }) =>
    [m.parsed.html || '', m.parsed.text || ''] as const;

  it('names PRIVACY_CONTACT in the confirmation and privacy-link mails and on the /c, /u and /p pages', async () => {
    const person = uniquePerson('kontakt');
    const created = await signUp(t, buildSignUp(person));
    expect(created.status).toBe(201);
    const confirmPath = await linkFromMail(t, person.email, CONFIRM_RE);
    const confirmation = t.peer.mailsTo(person.email).at(-1)!;
    for (const part of bodies(confirmation)) expect(part).toContain(CONTACT);

    const confirmPage = await request(t.app).get(confirmPath);
    expect(confirmPage.status).toBe(200);
    expect(confirmPage.text).toContain(CONTACT);
    expect((await request(t.app).post(confirmPath).type('form').send('')).text).toContain(CONTACT);

    const unsubscribe = unsubscribePath(t, created.body.id);
    const unsubscribePage = await request(t.app).get(unsubscribe);
    expect(unsubscribePage.status).toBe(200);
    expect(unsubscribePage.text).toContain(CONTACT);

    expect((await request(t.app).post(`${unsubscribe}/privacy-link`).type('form').send('')).status).toBe(200);
    const privacyPath = await linkFromMail(t, person.email, PRIVACY_RE);
    const privacyMail = t.peer.mailsTo(person.email).at(-1)!;
    for (const part of bodies(privacyMail)) expect(part).toContain(CONTACT);
    const privacyPage = await request(t.app).get(privacyPath);
    expect(privacyPage.status).toBe(200);
    expect(privacyPage.text).toContain(CONTACT);
    // Nowhere the default any more.
    for (const text of [confirmPage.text, unsubscribePage.text, privacyPage.text, ...bodies(privacyMail)])
      expect(text).not.toContain('post@cosmenor.no');
  });

  it('records the SHA-256 of the consent text file, computed here from the file itself', async () => {
    const file = path.join(__dirname, '..', '..', 'templates', 'consent', 'kundeklubb-2024-05.txt');
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const created = await signUp(
      t,
      buildSignUp({ consent: { textVersion: 'kundeklubb-2024-05', givenAt: '2026-11-25T10:00:00Z' } }),
    );
    const [row] = await t.c.dataSource.query(
      `SELECT text_version, text_sha256 FROM consent_events WHERE member_id = ? AND type = 'signup'`,
      [created.body.id],
    );
    expect(row).toEqual({ text_version: 'kundeklubb-2024-05', text_sha256: sha256 });
  });
});
