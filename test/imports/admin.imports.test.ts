import fs from 'node:fs';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app';
import { get, login, staffUser, type Session } from '../admin/helpers';
import { EVIDENCE, csv, fixture, memberByEmail, sha256, tableCounts, uniqueEmail } from './helpers';

/** The browser's multipart form: the fields in page order (the CSRF token first), then the file. */
function upload(
  t: TestApp,
  s: Session,
  path: string,
  file: Buffer | null,
  fields: Record<string, string> = {},
  csrf: string | null = s.csrf,
) {
  let r = request(t.app).post(path).set('Cookie', s.cookie);
  if (csrf !== null) r = r.field('_csrf', csrf);
  for (const [k, v] of Object.entries(fields)) r = r.field(k, v);
  return file ? r.attach('file', file, { filename: 'medlemmer.csv', contentType: 'text/csv' }) : r;
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('admin: the Import page', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { IMPORT_BATCH_SIZE: '200' } });
    admin = await login(t, await staffUser(t, 'admin'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is for admins: in their menu, with the size limit stated; others get 403 and no link', async () => {
    const page = await get(t, admin, '/admin/imports');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<a href="/admin/imports"');
    expect(text(page.text)).toContain('Høyst 100 MB');
    const marketing = await login(t, await staffUser(t, 'marketing'));
    expect((await get(t, marketing, '/admin/imports')).status).toBe(403);
    expect((await get(t, marketing, '/admin')).text).not.toContain('/admin/imports');
    const r = await upload(t, marketing, '/admin/imports/check', fixture('bad-rows.csv'), {}, marketing.csrf);
    expect(r.status).toBe(403);
  });

  it('check → report with row numbers (nothing written) → Importer with the same file → final report', async () => {
    const file = fixture('bad-rows.csv');
    const before = await tableCounts(t);
    const check = await upload(t, admin, '/admin/imports/check', file, { withoutConsent: 'reject' });
    expect(check.status).toBe(200);
    expect(await tableCounts(t)).toEqual(before);
    const page = text(check.text);
    expect(page).toContain('Ingenting er lagret ennå');
    expect(page).toMatch(/Nye aktive medlemmer 3 /);
    expect(page).toMatch(/Hoppet over: feil i raden 6 /);
    expect(page).toMatch(/Hoppet over: adressen står flere ganger 1 /);
    // The first errors, by the spreadsheet's row numbers, in Norwegian.
    expect(page).toContain('3 Hele raden Raden har flere felt enn overskriftsraden.');
    expect(page).toContain('4 E-post Må være en gyldig e-postadresse.');
    expect(page).toContain('5 Samtykketekst Ukjent versjon av samtykketeksten.');
    expect(page).toContain('6 Samtykke gitt Kan ikke være frem i tid.');
    expect(check.text).toContain(`name="sha256" value="${sha256(file)}"`);

    // Another file than the one checked is refused.
    const other = await upload(t, admin, '/admin/imports', fixture('iso-comma-lf.csv'), {
      withoutConsent: 'reject',
      sha256: sha256(file),
    });
    expect(other.status).toBe(422);
    expect(text(other.text)).toContain('ikke den samme filen');
    expect(await tableCounts(t)).toEqual(before);

    const started = await upload(t, admin, '/admin/imports', file, {
      withoutConsent: 'reject',
      sha256: sha256(file),
    });
    expect(started.status).toBe(303);
    const id = Number(/\/admin\/imports\/(\d+)$/.exec(started.headers.location)![1]);
    await t.c.imports.settled(id);
    const report = await get(t, admin, started.headers.location);
    expect(report.status).toBe(200);
    expect(text(report.text)).toContain('Importen er ferdig. 3 nye medlemmer.');
    expect(text(report.text)).toContain('11 Samtykke gitt');
    expect(report.text).not.toContain('data-import-url');
    expect(await memberByEmail(t, 'ok.en@example.no')).toMatchObject({ source: 'import', status: 'active' });
    // A formula from the file is shown as text on the member's page, never as markup.
    const f = await memberByEmail(t, 'formel@example.no');
    const memberPage = await get(t, admin, `/admin/members/${f!.id}`);
    expect(memberPage.text).toContain('=HYPERLINK(&quot;http://evil.example/x&quot;,&quot;Klikk&quot;)');
    expect(memberPage.text).not.toContain('href="http://evil.example');
    // Listed on the page.
    expect((await get(t, admin, '/admin/imports')).text).toContain(`href="/admin/imports/${id}"`);
  });

  it('shows the progress while it runs, and the script follows it', async () => {
    const rows = Array.from({ length: 20_000 }, (_v, i) => [
      `fremdrift.${process.pid}.${i}@example.no`,
      'Åse',
      'Ødegård',
      ...EVIDENCE,
    ]);
    const file = Buffer.from(csv(rows));
    const started = await upload(t, admin, '/admin/imports', file, {
      withoutConsent: 'reject',
      sha256: sha256(file),
    });
    expect(started.status).toBe(303);
    const id = Number(/(\d+)$/.exec(started.headers.location)![1]);
    const running = await get(t, admin, started.headers.location);
    expect(running.text).toContain(`data-import-url="/admin/imports/${id}/status.json"`);
    expect(running.text).toContain('role="progressbar"');
    expect(running.text).toContain('<meta http-equiv="refresh" content="3">');
    const status = await get(t, admin, `/admin/imports/${id}/status.json`);
    expect(status.body).toMatchObject({ id, sha256: sha256(file) });
    await t.c.imports.settled(id);
    const done = await get(t, admin, `/admin/imports/${id}/status.json`);
    expect(done.body).toMatchObject({ status: 'completed', created: 20_000, progress: 1 });
  });

  it.each([
    ['a file without an email column', 'no-email-column.csv', 422, 'ingen kolonne som heter email'],
    ['a binary file', 'spreadsheet.xlsx', 422, 'ikke en CSV-fil'],
    ['an empty file', 'zero-bytes.csv', 422, 'Filen er tom'],
  ])('%s: the page says why, nothing is written', async (_what, name, status, says) => {
    const before = await tableCounts(t);
    const r = await upload(t, admin, '/admin/imports/check', fixture(name), { withoutConsent: 'confirm' });
    expect(r.status).toBe(status);
    expect(text(r.text)).toContain(says);
    // The choice made is kept.
    expect(r.text).toMatch(/value="confirm" checked/);
    expect(await tableCounts(t)).toEqual(before);
  });

  it('no file chosen asks for one', async () => {
    const r = await upload(t, admin, '/admin/imports/check', null, { withoutConsent: 'reject' });
    expect(r.status).toBe(422);
    expect(text(r.text)).toContain('Velg en fil');
  });

  it('without the CSRF token the form is refused before the file is read; nothing kept', async () => {
    const email = uniqueEmail('csrf');
    const file = Buffer.from(csv([[email, 'Uten', 'Token', ...EVIDENCE]]));
    const spoolBefore = fs.existsSync(t.config.imports.spoolDir)
      ? fs.readdirSync(t.config.imports.spoolDir)
      : [];
    for (const csrf of [null, 'feil-token']) {
      const r = await upload(t, admin, '/admin/imports', file, { sha256: sha256(file) }, csrf);
      expect(r.status).toBe(403);
      expect(text(r.text)).toContain('Skjemaet ble avvist');
    }
    expect(await memberByEmail(t, email)).toBeUndefined();
    const spoolAfter = fs.existsSync(t.config.imports.spoolDir)
      ? fs.readdirSync(t.config.imports.spoolDir)
      : [];
    expect(spoolAfter.filter((f) => !spoolBefore.includes(f))).toEqual([]);
  });
});

describe('admin: an upload over the size limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { IMPORT_MAX_BYTES: '2048' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is refused with 413 and the limit on the page', async () => {
    const admin = await login(t, await staffUser(t, 'admin'));
    expect(text((await get(t, admin, '/admin/imports')).text)).toContain('Høyst 2 kB');
    const rows = Array.from({ length: 80 }, (_v, i) => [`stor${i}@example.no`, 'Stor', 'Fil', ...EVIDENCE]);
    const before = await tableCounts(t);
    const r = await upload(t, admin, '/admin/imports/check', Buffer.from(csv(rows)), {
      withoutConsent: 'reject',
    });
    expect(r.status).toBe(413);
    expect(text(r.text)).toContain('Filen er for stor. En import kan være på høyst 2 kB');
    expect(await tableCounts(t)).toEqual(before);
  });
});
