import type { ChildProcess } from 'node:child_process';
import { startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createCampaign, insertActiveMembers, waitUntil } from '../support/club';
import { exited, spawnWorker } from '../support/worker-process';
import { prng } from '../support/prng';
import { recordFinding } from './findings';

const MEMBERS = 5000;
const KILLS = 20;
const CONCURRENCY = 5;
const SEED = Number(process.env.KILL_SEED ?? Date.now() % 1_000_000);

const messageIdOf = (raw: string) => /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1] ?? null;

/**
 * kill -9 of a worker process at 20 random points of a 5,000-member campaign on MariaDB.
 * At each kill the ledger says exactly which messages are in the window (claimed by the dead
 * worker, still `sending`, yet already received by the SMTP peer): those, and only those, arrive
 * once more, with the same Message-ID. Everyone else gets exactly one. (A dead worker's rows are
 * retaken 8 s after it fell silent, while the kills go on: a row retaken and sent again by a
 * worker killed in turn is in that kill's window too.) The kill points come from a logged seed:
 * KILL_SEED=<seed> replays a failing run.
 */
describe(`kill -9 of a worker at 20 random points (MariaDB, seed ${SEED})`, () => {
  let t: TestApp;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!process.env.TEST_MYSQL_URL) throw new Error('TEST_MYSQL_URL is required for the reliability suite');
    console.log(`[kill-worker] seed ${SEED} (replay with KILL_SEED=${SEED})`);
    t = await startTestApp('mysql', { peerParse: false });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && !c.signalCode) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await t?.close();
  });

  const received = () => {
    const counts = new Map<string, number>();
    for (const m of t.peer.mails) for (const a of m.rcpt) counts.set(a, (counts.get(a) ?? 0) + 1);
    return counts;
  };
  const spawn = () => {
    const c = spawnWorker({
      config: t.config,
      databaseUrl: t.db.url,
      smtpUrl: t.peer.url,
      env: { SEND_RATE: '1000', SMTP_POOL_SIZE: String(CONCURRENCY), DELIVERY_LEASE_SECONDS: '1' },
    });
    children.push(c);
    return c;
  };

  it('every member exactly once, except at most the in-flight window of each kill (same Message-ID)', async () => {
    await insertActiveMembers(t, MEMBERS);
    const emailOf = new Map<number, string>(
      (await t.c.dataSource.query('SELECT id, email FROM members')).map(
        (r: { id: number; email: string }) => [Number(r.id), r.email],
      ),
    );
    t.peer.setLatency(2);
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');

    const random = prng(SEED);
    const windows: number[] = [];
    const counted = new Set<string>();
    // Per member, the kill windows its row was in: a row retaken from a dead worker may be sent
    // again by a worker killed in turn, so it can be in more than one.
    const windowsOf = new Map<number, number>();
    let predicted = 0;
    for (let k = 0; k < KILLS; k++) {
      const worker = spawn();
      const before = t.peer.mails.length;
      // A random point: after 50-200 further messages.
      const target = before + 50 + Math.floor(random() * 150);
      await waitUntil(async () => t.peer.mails.length >= target, 60000, 5);
      worker.kill('SIGKILL');
      await exited(worker);
      // Whatever the dead worker had sent is read once its connections have closed.
      await waitUntil(async () => t.peer.connections() === 0, 10000, 5);
      const held: Array<{ id: number; member_id: number; claimed_by: string }> = await t.c.dataSource.query(
        `SELECT id, member_id, claimed_by FROM deliveries WHERE campaign_id = ? AND status = 'sending'`,
        [id],
      );
      const got = received();
      // The rows this kill left behind (earlier kills' rows may still wait for the reaper).
      const fresh = held.filter((r) => !counted.has(`${r.id}/${r.claimed_by}`));
      for (const r of fresh) counted.add(`${r.id}/${r.claimed_by}`);
      // In the window: the dead worker sent it, i.e. its member has more copies than earlier windows left.
      let inWindow = 0;
      for (const r of fresh) {
        const member = Number(r.member_id);
        const before = windowsOf.get(member) ?? 0;
        if ((got.get(emailOf.get(member)!) ?? 0) <= before) continue;
        windowsOf.set(member, before + 1);
        inWindow++;
      }
      windows.push(inWindow);
      predicted += inWindow;
    }
    spawn();
    await waitUntil(
      async () =>
        (await t.c.dataSource.query('SELECT status FROM campaigns WHERE id = ?', [id]))[0].status === 'sent',
      120000,
      100,
    );

    const counts = received();
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const duplicates = total - counts.size;
    expect(counts.size).toBe(MEMBERS);
    // Each member once, and once more for each kill window its row was in.
    const wrong = [...emailOf].filter(([m, e]) => (counts.get(e) ?? 0) !== 1 + (windowsOf.get(m) ?? 0));
    expect(wrong).toEqual([]);
    expect(duplicates).toBe(predicted);
    // A message sent again after the crash keeps its Message-ID (fixed per campaign and member).
    const memberOf = new Map([...emailOf].map(([m, e]) => [e, m]));
    for (const [rcpt, n] of [...counts].filter(([, n]) => n > 1)) {
      const ids = t.peer.mailsTo(rcpt).map((m) => messageIdOf(m.raw));
      expect(ids).toEqual(Array.from({ length: n }, () => `<kk.c${id}.m${memberOf.get(rcpt)}@cosmenor.no>`));
    }
    const worst = Math.max(...windows);
    // One recording batch (50 outcomes / 50 ms) plus one per SMTP connection.
    expect(worst).toBeLessThanOrEqual(50 + CONCURRENCY);
    recordFinding('kill-worker', {
      seed: SEED,
      members: MEMBERS,
      kills: KILLS,
      duplicates,
      worstWindow: worst,
      windows,
      membersInTwoWindows: [...windowsOf.values()].filter((n) => n > 1).length,
    });
  });
});
