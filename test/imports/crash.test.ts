import fs from 'node:fs';
import path from 'node:path';
import { STALE_MS } from '../../src/imports/imports.service';
import { databaseKinds } from '../support/databases';
import { freePort } from '../support/ports';
import { startTestApp, type TestApp } from '../support/test-app';
import { exited, serviceEnv, spawnService, type ServiceProcess } from '../support/worker-process';
import { waitUntil } from '../support/club';
import { getImport, importAndWait, sha256 } from './helpers';

const ROWS = 20_000;
const BATCH = 100;

/** A file of ROWS members, every one with consent evidence. */
function bigFile(run: string): Buffer {
  const lines = ['email;firstName;lastName;consentTextVersion;consentGivenAt'];
  for (let i = 0; i < ROWS; i++)
    lines.push(`krasj.${run}.${i}@example.no;Kåre${i};Ødegård;kundeklubb-2024-05;01.03.2025`);
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}

describe.each(databaseKinds())('a service process killed (kill -9) mid-import on %s', (kind) => {
  let t: TestApp;
  let service: ServiceProcess | undefined;
  let skewMs = 0;
  beforeAll(async () => {
    // The in-process app reads the import after the crash, its clock moved past the heartbeat's silence.
    t = await startTestApp(kind, { clock: () => new Date(Date.now() + skewMs) });
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null && !service.child.signalCode)
      service.child.kill('SIGKILL');
    if (service) await exited(service.child);
    await t?.close();
  });

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await t.c.dataSource.query(sql, params))[0].n);

  it('leaves whole batches only, is marked interrupted, and the same file again completes it', async () => {
    const run = Math.random().toString(36).slice(2, 8);
    const file = bigFile(run);
    const port = await freePort();
    service = spawnService('serve', {
      env: serviceEnv({
        config: t.config,
        databaseUrl: t.db.url,
        smtpUrl: t.peer.url,
        env: { PORT: String(port), IMPORT_BATCH_SIZE: String(BATCH) },
      }),
    });
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200,
      60_000,
      100,
    );
    const res = await fetch(`http://127.0.0.1:${port}/v1/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.admin}`, 'content-type': 'text/csv' },
      body: new Uint8Array(file),
    });
    expect(res.status).toBe(201);
    const started = (await res.json()) as { id: number; status: string; sha256: string };
    expect(started).toMatchObject({ status: 'running', sha256: sha256(file) });

    const imported = () => count("SELECT COUNT(*) AS n FROM members WHERE source = 'import'");
    await waitUntil(async () => (await imported()) >= 10 * BATCH, 120_000, 10);
    service.child.kill('SIGKILL');
    await exited(service.child);

    const members = await imported();
    // Killed mid-import: some batches in, not all, and only whole ones.
    expect(members).toBeGreaterThanOrEqual(10 * BATCH);
    expect(members).toBeLessThan(ROWS);
    expect(members % BATCH).toBe(0);
    // Each member in with all of its batch's writes: evidence, app events, search tokens.
    expect(
      await count('SELECT COUNT(*) AS n FROM consent_events WHERE file_sha256 = ?', [started.sha256]),
    ).toBe(members);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM member_events e JOIN members m ON m.id = e.member_id WHERE m.source = 'import'",
      ),
    ).toBe(2 * members);
    expect(
      await count(
        "SELECT COUNT(DISTINCT t.member_id) AS n FROM member_search_tokens t JOIN members m ON m.id = t.member_id WHERE m.source = 'import'",
      ),
    ).toBe(members);

    // The counts were saved with each batch: they say exactly what is in.
    const [row] = await t.c.dataSource.query(
      'SELECT status, counts_json, spool_name FROM imports WHERE id = ?',
      [started.id],
    );
    expect(row.status).toBe('running');
    expect(JSON.parse(row.counts_json).created).toBe(members);
    const spool = path.join(t.config.imports.spoolDir, row.spool_name);
    expect(fs.existsSync(spool)).toBe(true);

    // Still within its heartbeat's window it shows as running; past it, as interrupted, and the copy goes.
    expect((await getImport(t, started.id)).body.status).toBe('running');
    skewMs = STALE_MS + 1000;
    const after = (await getImport(t, started.id)).body;
    expect(after).toMatchObject({ status: 'interrupted', created: members });
    expect(after.failure).toMatch(/import the same file again/);
    expect(fs.existsSync(spool)).toBe(false);

    const again = await importAndWait(t, file);
    expect(again.report).toMatchObject({
      status: 'completed',
      rows: ROWS,
      unchanged: members,
      created: ROWS - members,
      errors: [],
    });
    expect(await imported()).toBe(ROWS);
    expect(await count("SELECT COUNT(*) AS n FROM consent_events WHERE type = 'imported'")).toBe(ROWS);
  }, 240_000);
});
