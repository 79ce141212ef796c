import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, dumpAllTables, startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import { linkFromMail, PRIVACY_RE, signUp, uniquePerson, unsubscribePath } from './helpers';

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
const CONFIRM_RE = new RegExp(`${TEST_PUBLIC_URL}/c/[A-Za-z0-9_-]+`);

describe.each(databaseKinds())('retention with an injected clock on %s', (kind) => {
  // Each test has its own database and clock: the counts it asserts are of its own rows, in any order.
  let t: TestApp;
  let now = new Date('2026-03-01T09:00:00.000Z');
  beforeEach(async () => {
    now = new Date('2026-03-01T09:00:00.000Z');
    t = await startTestApp(kind, { clock: () => now });
  });
  afterEach(async () => {
    await t?.close();
  });

  const run = () => t.c.retention.run(now);
  const pendingMember = async (person: Record<string, string>) => {
    const r = await signUp(t, buildSignUp(person));
    expect(r.body.status).toBe('pending');
    return r.body.id as number;
  };
  const confirmedMember = async (person: Record<string, string>) => {
    const id = await pendingMember(person);
    const link = await linkFromMail(t, person.email, CONFIRM_RE);
    expect((await request(t.app).post(link).type('form').send('')).status).toBe(200);
    return id;
  };

  it('erases sign-ups still pending after 14 days, not after 13; confirmed members stay', async () => {
    const t0 = new Date('2026-03-01T09:00:00.000Z');
    now = t0;
    const p = uniquePerson('venter');
    const pending = await pendingMember(p);
    const confirmed = await confirmedMember(uniquePerson('bekreftet'));
    await t.peer.waitFor(() => t.peer.mailsTo(p.email).length > 0);

    now = new Date(t0.getTime() + 13 * DAY);
    expect((await run())['pending-members']).toBe(0);
    expect(await t.c.members.findMember(pending)).not.toBeNull();

    now = new Date(t0.getTime() + 15 * DAY);
    const counts = await run();
    expect(counts['pending-members']).toBe(1);
    expect(await t.c.members.findMember(pending)).toBeNull();
    expect((await t.c.members.findMember(confirmed))!.status).toBe('active');
    const dump = await dumpAllTables(t.c);
    for (const value of Object.values(p)) expect(dump).not.toContain(value);
    // Never confirmed: no consent to honour, so no suppression either.
    expect(await t.c.suppression.isSuppressed(t.c.dataSource.manager, p.email)).toBe(false);
    const [last] = await t.c.dataSource.query(
      `SELECT member_id, channel FROM consent_events WHERE type = 'erasure' ORDER BY id DESC LIMIT 1`,
    );
    expect(last).toMatchObject({ member_id: null, channel: 'retention' });
    expect((await run())['pending-members']).toBe(0);
  });

  it('the limit is configurable', async () => {
    const t7 = await startTestApp(kind, { clock: () => now, env: { RETENTION_PENDING_DAYS: '7' } });
    try {
      const t0 = now;
      const id = (await signUp(t7, buildSignUp())).body.id;
      expect((await t7.c.retention.run(new Date(t0.getTime() + 6 * DAY)))['pending-members']).toBe(0);
      expect((await t7.c.retention.run(new Date(t0.getTime() + 8 * DAY)))['pending-members']).toBe(1);
      expect(await t7.c.members.findMember(id)).toBeNull();
    } finally {
      await t7.close();
    }
  });

  it('a privacy link works for 24 hours; then retention deletes it with other spent tokens', async () => {
    const t1 = new Date('2026-06-01T12:00:00.000Z');
    now = t1;
    const p = uniquePerson('lenke');
    const id = await confirmedMember(p);
    const waiting = uniquePerson('ubekreftet');
    await pendingMember(waiting);
    await t.peer.waitFor(() => t.peer.mailsTo(waiting.email).length > 0);
    await request(t.app)
      .post(`${unsubscribePath(t, id)}/privacy-link`)
      .type('form')
      .send('');
    const link = await linkFromMail(t, p.email, PRIVACY_RE);

    now = new Date(t1.getTime() + 23 * HOUR + 59 * 60_000);
    expect((await request(t.app).get(link)).status).toBe(200);
    now = new Date(t1.getTime() + 24 * HOUR + 60_000);
    expect((await request(t.app).get(link)).status).toBe(400);
    expect((await request(t.app).post(`${link}/erase`).type('form').send('confirm=ja')).status).toBe(400);
    expect(await t.c.members.findMember(id)).not.toBeNull();

    const tokens = async () =>
      (await t.c.dataSource.query('SELECT purpose FROM member_tokens'))
        .map((r: { purpose: string }) => r.purpose)
        .sort();
    // The used confirmation link stays until it expires, to answer «already confirmed» (issue #14).
    expect(await tokens()).toEqual(['confirm', 'confirm', 'privacy']);
    expect((await run())['member-tokens']).toBe(1);
    // The confirmation links (72 hours) are still kept: one still good, one used.
    expect(await tokens()).toEqual(['confirm', 'confirm']);
    now = new Date(t1.getTime() + 73 * HOUR);
    expect((await run())['member-tokens']).toBe(2);
    expect(await tokens()).toEqual([]);
  });

  it('clears request-log notes after a year, and the address of closed old requests', async () => {
    now = new Date('2027-03-01T09:00:00.000Z');
    const auth = { authorization: `Bearer ${t.tokens.privacy}` };
    const make = async (daysAgo: number, note: string) =>
      (
        await request(t.app)
          .post('/v1/privacy-requests')
          .set(auth)
          .send({
            type: 'access',
            email: `${note.toLowerCase()}@example.no`,
            receivedAt: new Date(now.getTime() - daysAgo * DAY).toISOString(),
            channel: 'email',
            note,
          })
      ).body.id as number;
    const old = await make(366, 'Gammel');
    const oldClosed = await make(400, 'Lukket');
    const young = await make(300, 'Ung');
    await request(t.app)
      .patch(`/v1/privacy-requests/${oldClosed}`)
      .set(auth)
      .send({ status: 'done', outcome: 'answered' });

    const counts = await run();
    expect(counts['request-notes']).toBe(2);
    expect(counts['request-addresses']).toBe(1);
    const get = async (id: number) => (await request(t.app).get(`/v1/privacy-requests/${id}`).set(auth)).body;
    expect(await get(old)).toMatchObject({ note: null, email: 'gammel@example.no', type: 'access' });
    expect(await get(oldClosed)).toMatchObject({ note: null, email: null, outcome: 'answered' });
    expect(await get(young)).toMatchObject({ note: 'Ung', email: 'ung@example.no' });
    expect((await run())['request-notes']).toBe(0);
  });

  it('other rooms add tasks; each run logs counts only', async () => {
    let seen: Date | null = null;
    t.c.retention.addTask({ name: 'test-task', run: async (at) => ((seen = at), 7) });
    expect(() => t.c.retention.addTask({ name: 'test-task', run: async () => 0 })).toThrow(/already/);
    const before = t.logs.length;
    const counts = await run();
    expect(counts['test-task']).toBe(7);
    expect(seen).toEqual(now);
    expect(Object.keys(counts)).toEqual(
      expect.arrayContaining([
        'pending-members',
        'member-tokens',
        'request-notes',
        'request-addresses',
        'test-task',
      ]),
    );
    const line = t.logs.slice(before).find((l) => l.includes('retention run'))!;
    expect(JSON.parse(line).counts).toEqual(counts);
    expect(t.logs.slice(before).join('\n')).not.toMatch(/@example\.no/);
  });

  it('`npx kundeklubb retention` runs once and prints the counts as one JSON line', async () => {
    // A sign-up 20 real days ago, still pending: the CLI runs on the real clock.
    now = new Date(Date.now() - 20 * DAY);
    const p = uniquePerson('cli');
    const id = await pendingMember(p);
    await t.peer.waitFor(() => t.peer.mailsTo(p.email).length > 0);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-cli-'));
    try {
      const { stdout } = await promisify(execFile)(
        'node',
        [path.join(__dirname, '..', '..', 'bin', 'kundeklubb.js'), 'retention'],
        {
          env: {
            PATH: process.env.PATH,
            KUNDEKLUBB_FROM_SOURCE: '1',
            DATABASE_URL: t.db.url,
            SMTP_URL: `file:${dataDir}/outbox`,
            DATA_DIR: dataDir,
            TOKEN_KEYS: 'k1:test-secret-0123456789abcdef0123456789abcdef',
            LOG_LEVEL: 'silent',
          },
          timeout: 60_000,
        },
      );
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const counts = JSON.parse(lines[0]);
      expect(counts['pending-members']).toBe(1);
      expect(typeof counts['member-tokens']).toBe('number');
      expect(await t.c.members.findMember(id)).toBeNull();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
