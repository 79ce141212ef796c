import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, dumpAllTables, startTestApp, type TestApp } from '../support/test-app';
import {
  EVIDENCE,
  csv,
  fixture,
  getImport,
  importAndWait,
  memberByEmail,
  postImport,
  sha256,
  tableCounts,
  uniqueEmail,
} from './helpers';

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const TEXT = 'kundeklubb-2024-05';

describe.each(databaseKinds())('CSV import (CONTRACT §11) on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false', IMPORT_BATCH_SIZE: '3' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const consents = async (memberId: number) =>
    (await request(t.app).get(`/v1/members/${memberId}/consents`).set(as(t.tokens.read))).body.items;

  async function eventsAfter(after: number): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    const r = await request(t.app).get(`/v1/events?after=${after}&limit=1000`).set(as(t.tokens.read));
    return r.body.events;
  }

  it('Excel in Norwegian (UTF-8 with BOM, `;`, CRLF, 24.12.2025): active members with their evidence and events', async () => {
    const file = fixture('excel-nb-utf8-bom.csv');
    const before = await t.c.events.lastSequence();
    const r = await postImport(t, file);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'running', sha256: sha256(file), dryRun: false });
    expect(r.headers.location).toBe(`/v1/imports/${r.body.id}`);
    await t.c.imports.settled(r.body.id);
    const report = (await getImport(t, r.body.id)).body;
    expect(report).toMatchObject({
      id: r.body.id,
      status: 'completed',
      rows: 3,
      created: 2,
      pending: 0,
      unchanged: 0,
      skipped: { suppressed: 0, unsubscribed: 0, restricted: 0, bounced: 0, invalid: 1, duplicate: 0 },
      errors: [{ row: 4, path: 'consentTextVersion', message: expect.stringMatching(/no consent evidence/) }],
      ignoredColumns: [],
      sha256: sha256(file),
      progress: 1,
    });

    // Trimmed and lower-cased as in sign-up; æøå intact; the phone as sign-up keeps it.
    const ase = await memberByEmail(t, 'ase.odegard@example.no');
    expect(ase).toMatchObject({
      first_name: 'Åse',
      last_name: 'Ødegård',
      phone: '+4791234567',
      partner_id: 'salong-17',
      source: 'import',
      status: 'active',
    });
    const aseId = Number(ase!.id);
    const [event] = await consents(aseId);
    expect(event).toEqual({
      type: 'imported',
      occurredAt: expect.any(String),
      source: 'import',
      sourceVersion: null,
      textVersion: TEXT,
      textSha256: t.c.consentTexts.get(TEXT)!.sha256,
      channel: null,
      // 24.12.2025 is a date in Oslo: its first minute, 23:00 UTC the day before.
      givenAt: '2025-12-23T23:00:00.000Z',
      code: null,
      fileSha256: sha256(file),
      fileRow: 2,
    });
    const bjorn = await memberByEmail(t, 'bjorn.aerlig@example.no');
    expect(bjorn).toMatchObject({ first_name: 'Bjørn', last_name: 'Ærlig', status: 'active' });
    expect((await consents(Number(bjorn!.id)))[0]).toMatchObject({
      givenAt: '2024-03-01T13:30:00.000Z',
      fileRow: 3,
    });
    // The row without evidence wrote nothing.
    expect(await memberByEmail(t, 'kare.bla@example.no')).toBeUndefined();

    // The apps hear of each new member: created, then confirmed (CONTRACT §10).
    const events = (await eventsAfter(before)).map((e) => [
      e.type,
      e.data.memberId,
      e.data.status,
      e.data.source,
    ]);
    expect(events).toEqual([
      ['member.created', aseId, 'active', 'import'],
      ['member.confirmed', aseId, 'active', 'import'],
      ['member.created', Number(bjorn!.id), 'active', 'import'],
      ['member.confirmed', Number(bjorn!.id), 'active', 'import'],
    ]);
    // The admin's member search finds an imported member by part of the name.
    expect((await t.c.members.search({ q: 'odeg', limit: 50 } as never)).items.map((m) => m.id)).toContain(
      aseId,
    );
  });

  it('Excel in Norwegian saved as Windows-1252: æøå decoded', async () => {
    const { report } = await importAndWait(t, fixture('excel-nb-windows-1252.csv'));
    expect(report).toMatchObject({ status: 'completed', rows: 3, created: 2, skipped: { invalid: 1 } });
    expect(await memberByEmail(t, 'solveig.aasen@example.no')).toMatchObject({
      first_name: 'Sølvi',
      last_name: 'Ålesund',
      phone: '91234567',
      partner_id: 'salong-3',
    });
    const tore = await memberByEmail(t, 'tore.oye@example.no');
    expect(tore).toMatchObject({ first_name: 'Tøre', last_name: 'Øye' });
    // 2025-08-15 09:05 without an offset is Oslo time (summer: UTC+2).
    expect((await consents(Number(tore!.id)))[0].givenAt).toBe('2025-08-15T07:05:00.000Z');
  });

  it('`,` with LF, quoted fields with a line break, a comma and quotes; ISO dates; unknown columns ignored and listed', async () => {
    const { report } = await importAndWait(t, fixture('iso-comma-lf.csv'));
    expect(report).toMatchObject({
      status: 'completed',
      rows: 3,
      created: 3,
      errors: [],
      ignoredColumns: ['Kommentar'],
    });
    const ingrid = await memberByEmail(t, 'ingrid.iso@example.no');
    expect(ingrid).toMatchObject({ external_id: 'app-user-1', last_name: 'Iso' });
    expect((await consents(Number(ingrid!.id)))[0].givenAt).toBe('2025-05-31T22:00:00.000Z');
    const per = await memberByEmail(t, 'per.iso@example.no');
    expect(per).toMatchObject({ last_name: 'Iso, jr.' });
    expect((await consents(Number(per!.id)))[0].givenAt).toBe('2025-06-01T08:15:00.000Z');
    const siri = await memberByEmail(t, 'siri.iso@example.no');
    expect((await consents(Number(siri!.id)))[0]).toMatchObject({
      givenAt: '2025-11-30T23:59:59.000Z',
      // Row 4 as a spreadsheet shows it, though line 5 of the text: Ingrid's note spans two lines.
      fileRow: 4,
    });
    // Nothing of the ignored column is stored anywhere.
    expect(await dumpAllTables(t.c)).not.toContain('vil ha nyhetsbrev');
  });

  it('bad rows are reported by row number and write nothing; the good rows still import; a formula stays text', async () => {
    const { report } = await importAndWait(t, fixture('bad-rows.csv'));
    expect(report).toMatchObject({
      status: 'completed',
      rows: 10,
      created: 3,
      skipped: { invalid: 6, duplicate: 1 },
    });
    expect(report.errors.map((e: { row: number; path: string }) => [e.row, e.path])).toEqual([
      [3, ''], // more fields than the header
      [4, 'email'],
      [5, 'consentTextVersion'], // unknown version
      [6, 'consentGivenAt'], // in the future
      [9, 'consentTextVersion'], // no evidence (withoutConsent=reject)
      [11, 'consentGivenAt'], // 31.02.2025 is no date
    ]);
    expect(report.errors[0].message).toBe('has more fields than the header row');
    expect(report.errors[2].message).toBe(`must be a known consent text version: ${TEXT}`);
    expect(report.errors[3].message).toBe('must not be in the future');
    for (const email of [
      'for.mange@example.no',
      'ukjent.tekst@example.no',
      'fremtid@example.no',
      'uten.samtykke@example.no',
      'dato.feil@example.no',
    ])
      expect(await memberByEmail(t, email)).toBeUndefined();
    // The first row of an address wins: the duplicate (row 8) changed nothing.
    expect(await memberByEmail(t, 'ok.en@example.no')).toMatchObject({ first_name: 'Ok', last_name: 'En' });
    expect(await memberByEmail(t, 'to.siste@example.no')).toMatchObject({ status: 'active' });

    const formula = '=HYPERLINK("http://evil.example/x","Klikk")';
    const f = await memberByEmail(t, 'formel@example.no');
    expect(f!.first_name).toBe(formula);
    // Never evaluated, and shown escaped: the API gives the text back as text, the admin page as text.
    const viaApi = await request(t.app).get(`/v1/members/${f!.id}`).set(as(t.tokens.read));
    expect(viaApi.body.firstName).toBe(formula);
  });

  it('withoutConsent=confirm: rows without evidence become pending and get the confirmation mail', async () => {
    const withEvidence = uniqueEmail('med');
    const without = uniqueEmail('uten');
    const body = csv([
      [withEvidence, 'Med', 'Bevis', ...EVIDENCE],
      [without, 'Uten', 'Bevis', '', ''],
    ]);
    const { report } = await importAndWait(t, body, '?withoutConsent=confirm');
    expect(report).toMatchObject({ status: 'completed', rows: 2, created: 1, pending: 1, errors: [] });
    const m = await memberByEmail(t, without);
    expect(m).toMatchObject({ status: 'pending', source: 'import', confirmed_at: null });
    expect(await consents(Number(m!.id))).toEqual([
      expect.objectContaining({
        type: 'imported',
        textVersion: null,
        givenAt: null,
        fileSha256: sha256(body),
        fileRow: 3,
      }),
    ]);
    await t.peer.waitFor(() => t.peer.mailsTo(without).length === 1, 10_000);
    expect(t.peer.mailsTo(without)[0].parsed.subject).toBe('Bekreft medlemskapet ditt i Sothys Kundeklubb');
    // The member with evidence is mailed nothing.
    expect(t.peer.mailsTo(withEvidence)).toHaveLength(0);
  });

  it('never changes a member, never revives one who left, restricted or bounced, never imports a suppressed address', async () => {
    const signUp = async (who: string) => {
      const email = uniqueEmail(who);
      const r = await request(t.app)
        .post('/v1/members')
        .set(as(t.tokens.app))
        .send(buildSignUp({ email, firstName: 'Gammel' }));
      expect(r.status).toBe(201);
      return { email, id: Number(r.body.id) };
    };
    const active = await signUp('aktiv');
    const pending = await signUp('venter');
    const newAddress = uniqueEmail('ny-adresse');
    // A new address is pending until confirmed (CONTRACT §4).
    expect(
      (
        await request(t.app)
          .patch(`/v1/members/${pending.id}`)
          .set(as(t.tokens.app))
          .send({ email: newAddress })
      ).body.status,
    ).toBe('pending');
    const left = await signUp('meldt-ut');
    await request(t.app)
      .post(`/v1/members/${left.id}/unsubscribe`)
      .set(as(t.tokens.app))
      .send({ channel: 'app' });
    const erased = await signUp('slettet');
    expect((await request(t.app).delete(`/v1/members/${erased.id}`).set(as(t.tokens.privacy))).status).toBe(
      204,
    );
    const restricted = await signUp('begrenset');
    await request(t.app)
      .post(`/v1/members/${restricted.id}/restrict`)
      .set(as(t.tokens.privacy))
      .send({ restricted: true });
    const bounced = await signUp('retur');
    await t.c.dataSource.transaction(async (m) => {
      const member = await t.c.members.lockMember(m, bounced.id);
      await t.c.members.markBounced(m, member!, '5.1.1');
    });
    const before = await tableCounts(t);
    const historyBefore = await Promise.all(
      [active, pending, restricted, bounced].map(async (x) => (await consents(x.id)).length),
    );

    const body = csv(
      [active.email, newAddress, left.email, erased.email, restricted.email, bounced.email].map((e) => [
        e,
        'Ny',
        'Navn',
        ...EVIDENCE,
      ]),
    );
    const { report } = await importAndWait(t, body);
    expect(report).toMatchObject({
      status: 'completed',
      rows: 6,
      created: 0,
      pending: 0,
      unchanged: 2,
      skipped: { suppressed: 1, unsubscribed: 1, restricted: 1, bounced: 1, invalid: 0, duplicate: 0 },
    });
    const after = await tableCounts(t);
    expect(after).toEqual({ ...before, imports: before.imports + 1 });
    expect((await t.c.members.get(active.id)).firstName).toBe('Gammel');
    expect((await t.c.members.get(pending.id)).status).toBe('pending');
    expect((await t.c.members.get(left.id)).status).toBe('unsubscribed');
    expect((await t.c.members.get(restricted.id)).status).toBe('restricted');
    expect((await t.c.members.get(bounced.id)).status).toBe('bounced');
    expect(await memberByEmail(t, left.email)).toBeUndefined();
    expect(await memberByEmail(t, erased.email)).toBeUndefined();
    expect(
      await Promise.all(
        [active, pending, restricted, bounced].map(async (x) => (await consents(x.id)).length),
      ),
    ).toEqual(historyBefore);
  });

  it('the same file twice: everything unchanged the second time', async () => {
    const rows = Array.from({ length: 7 }, (_v, i) => [
      uniqueEmail(`to-ganger${i}`),
      `Navn${i}`,
      'To',
      ...EVIDENCE,
    ]);
    const body = csv(rows);
    const first = await importAndWait(t, body);
    expect(first.report).toMatchObject({ created: 7, unchanged: 0 });
    const before = await tableCounts(t);
    const second = await importAndWait(t, body);
    expect(second.report).toMatchObject({
      status: 'completed',
      rows: 7,
      created: 0,
      pending: 0,
      unchanged: 7,
    });
    expect(second.report.sha256).toBe(first.report.sha256);
    expect(await tableCounts(t)).toEqual({ ...before, imports: before.imports + 1 });
  });

  it('a dry run answers the same report and writes nothing', async () => {
    const body = csv([
      [uniqueEmail('prove1'), 'Prøve', 'En', ...EVIDENCE],
      [uniqueEmail('prove2'), 'Prøve', 'To', '', ''],
      ['ikke-en-adresse', 'Prøve', 'Tre', ...EVIDENCE],
    ]);
    const before = await tableCounts(t);
    const dry = await postImport(t, body, '?dryRun=true&withoutConsent=confirm');
    expect(dry.status).toBe(200);
    expect(await tableCounts(t)).toEqual(before);
    expect(dry.body).toMatchObject({ id: null, dryRun: true, status: 'completed', created: 1, pending: 1 });
    const { report } = await importAndWait(t, body, '?withoutConsent=confirm');
    const counts = (r: Record<string, unknown>) =>
      ['rows', 'created', 'pending', 'unchanged', 'skipped', 'errors', 'ignoredColumns', 'sha256'].map(
        (k) => r[k],
      );
    expect(counts(dry.body)).toEqual(counts(report));
  });

  it('a failure in batch N leaves whole batches only; the same file again completes it', async () => {
    // A real failure inside the database on the third batch's second row (batch size 3): a trigger.
    const rows = Array.from({ length: 12 }, (_v, i) => [
      uniqueEmail(`batch${i}`),
      `Navn${i}`,
      'Batch',
      ...EVIDENCE,
    ]);
    const failing = String(rows[7][0]);
    const trigger = `kk_test_fail_${process.pid}`;
    if (kind === 'mysql')
      await t.c.dataSource.query(
        `CREATE TRIGGER ${trigger} BEFORE INSERT ON consent_events FOR EACH ROW
         BEGIN IF NEW.file_row = 9 AND NEW.member_id = (SELECT id FROM members WHERE email = '${failing}') THEN
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END`,
      );
    else
      await t.c.dataSource.query(
        `CREATE TRIGGER ${trigger} BEFORE INSERT ON consent_events
         WHEN NEW.file_row = 9 AND NEW.member_id = (SELECT id FROM members WHERE email = '${failing}')
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
      );
    const body = csv(rows);
    try {
      const { report } = await importAndWait(t, body);
      expect(report).toMatchObject({ status: 'failed', created: 6 });
      expect(report.failure).toMatch(/internal error/);
    } finally {
      await t.c.dataSource.query(`DROP TRIGGER ${trigger}`);
    }
    const present = async () =>
      Promise.all(rows.map(async ([email]) => !!(await memberByEmail(t, String(email)))));
    // Batches 1 and 2 whole, batch 3 (rows 8-10 of the file) not at all, nothing after it.
    expect(await present()).toEqual([...Array(6).fill(true), ...Array(6).fill(false)]);
    for (const [email] of rows.slice(0, 6)) {
      const m = await memberByEmail(t, String(email));
      expect(await consents(Number(m!.id))).toHaveLength(1);
    }
    const again = await importAndWait(t, body);
    expect(again.report).toMatchObject({ status: 'completed', rows: 12, unchanged: 6, created: 6 });
    expect(await present()).toEqual(Array(12).fill(true));
  });

  it('the file itself is never kept', async () => {
    const email = uniqueEmail('fil');
    const body = csv(
      [[email, 'Fil', 'Fjernet', ...EVIDENCE]],
      ['email', 'firstName', 'lastName', 'consentTextVersion', 'consentGivenAt', 'Notat'],
    );
    const { started } = await importAndWait(t, body);
    const [row] = await t.c.dataSource.query('SELECT spool_name FROM imports WHERE id = ?', [
      started.body.id,
    ]);
    expect(fs.existsSync(path.join(t.config.imports.spoolDir, row.spool_name))).toBe(false);
    expect(await dumpAllTables(t.c)).not.toContain('firstName;lastName');
  });

  describe('bad input: a clear problem, nothing written', () => {
    it.each([
      ['a file with no email column', 'no-email-column.csv', 422, 'no-email-column'],
      ['an empty file (blank lines only)', 'only-blank-lines.csv', 422, 'no-header'],
      ['a 0-byte upload', 'zero-bytes.csv', 422, 'empty-file'],
      ['a binary file (.xlsx)', 'spreadsheet.xlsx', 422, 'not-csv'],
    ])('%s', async (_what, name, status, type) => {
      const before = await tableCounts(t);
      for (const query of ['', '?dryRun=true']) {
        const r = await postImport(t, fixture(name), query);
        expect(r.status).toBe(status);
        expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(r.body.type).toBe(`https://kundeklubb.cosmenor.no/problems/${type}`);
      }
      expect(await tableCounts(t)).toEqual(before);
    });

    it('a first row holding an address (no header) is refused without echoing it', async () => {
      const email = uniqueEmail('uten-overskrift');
      const r = await postImport(t, `${email};Kari;Nordmann\r\n`);
      expect(r.status).toBe(422);
      expect(r.text).not.toContain(email);
    });

    it('UTF-16 text is refused with a way out', async () => {
      const r = await postImport(
        t,
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email\r\n', 'utf16le')]),
      );
      expect(r.status).toBe(422);
      expect(r.body.detail).toMatch(/UTF-16/);
    });

    it('not text/csv → 415; unknown query parameter → 400; no admin scope → 403; no token → 401', async () => {
      const body = csv([[uniqueEmail('x'), 'X', 'Y', ...EVIDENCE]]);
      expect((await postImport(t, body, '', { type: 'application/json' })).status).toBe(415);
      expect((await postImport(t, body, '?dryrun=true')).status).toBe(400);
      expect((await postImport(t, body, '?withoutConsent=maybe')).status).toBe(400);
      expect((await postImport(t, body, '', { token: t.tokens.app })).status).toBe(403);
      expect((await postImport(t, body, '', { token: t.tokens.privacy })).status).toBe(403);
      expect(
        (await request(t.app).post('/v1/imports').set('content-type', 'text/csv').send(body)).status,
      ).toBe(401);
      expect((await getImport(t, 999999)).status).toBe(404);
      expect((await request(t.app).get('/v1/imports/1').set(as(t.tokens.read))).status).toBe(403);
    });
  });
});

describe('import size limit (IMPORT_MAX_BYTES lowered to 1,000 bytes)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { IMPORT_MAX_BYTES: '1000' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a larger upload is refused with 413 and nothing is written or kept', async () => {
    const rows = Array.from({ length: 40 }, (_v, i) => [`stor${i}@example.no`, 'Stor', 'Fil', ...EVIDENCE]);
    const body = csv(rows);
    expect(body.length).toBeGreaterThan(1000);
    const before = await tableCounts(t);
    for (const query of ['', '?dryRun=true']) {
      const r = await postImport(t, body, query);
      expect(r.status).toBe(413);
      expect(r.body.type).toBe('https://kundeklubb.cosmenor.no/problems/too-large');
    }
    expect(await tableCounts(t)).toEqual(before);
    // Without a declared length (a chunked upload) the bytes are counted as they come.
    const stream = Readable.from([Buffer.from(body.slice(0, 600)), Buffer.from(body.slice(600))]);
    await expect(t.c.imports.receive(stream)).rejects.toMatchObject({ status: 413 });
    // One byte under the limit is taken.
    const fits = csv(rows.slice(0, 10));
    expect(fits.length).toBeLessThanOrEqual(1000);
    expect((await postImport(t, fits, '?dryRun=true')).status).toBe(200);
  });
});
