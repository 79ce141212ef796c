import { startTestApp, type TestApp } from '../support/test-app';
import {
  campaignAction,
  createCampaign,
  insertActiveMembers,
  runDeliveryWorker,
  waitUntil,
} from '../support/club';
import type { BackgroundWorker } from '../../src/worker';
import { recordFinding } from './findings';

const receivedCounts = (t: TestApp) => {
  const counts = new Map<string, number>();
  for (const m of t.peer.mails) for (const a of m.rcpt) counts.set(a, (counts.get(a) ?? 0) + 1);
  return counts;
};
/** The Message-ID header of a received header block. */
const messageIdOf = (raw: string) => /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1] ?? null;
const campaignStatus = async (t: TestApp, id: number) =>
  (await t.c.dataSource.query('SELECT status FROM campaigns WHERE id = ?', [id]))[0].status as string;

/** When a campaign does not finish in time: the ledger by state, and the last warnings and errors. */
async function printLedgerState(app: TestApp, id: number): Promise<void> {
  console.log(
    await app.c.dataSource.query(
      'SELECT status, COUNT(*) n, MIN(next_attempt_at) t, MAX(attempts) a FROM deliveries GROUP BY status',
    ),
    await campaignStatus(app, id),
    new Date(),
    app.peer.mails.length,
  );
  console.log(
    app.logs
      .filter((l) => /"level":(40|50)/.test(l))
      .slice(-8)
      .join('\n'),
  );
}

describe('outages during a campaign', () => {
  let t: TestApp | undefined;
  let bg: BackgroundWorker | undefined;
  afterEach(async () => {
    await bg?.stop().catch(() => undefined);
    await t?.close().catch(() => undefined);
    bg = undefined;
    t = undefined;
  });

  it('SMTP cut and down for 30 s mid-campaign on MariaDB: completes; duplicates exactly the messages in flight at the cut', async () => {
    t = await startTestApp('mysql', { peerParse: false });
    const app = t;
    const pool = app.config.smtpPoolSize;
    await insertActiveMembers(app, 2000);
    // Slow replies keep every connection busy, so the cut finds messages in flight on them.
    app.peer.setLatency(20);
    bg = runDeliveryWorker(app.c, { sendRate: 400, housekeepingMs: 500 }).bg;
    const id = await createCampaign(app);
    await campaignAction(app, id, 'send');
    await waitUntil(async () => app.peer.mails.length >= 500, 60000, 10);
    await app.peer.down();
    const downAt = Date.now();
    const inFlight = app.peer.inFlightAtCut();
    await new Promise((r) => setTimeout(r, 30000));
    const duringOutage = app.peer.mails.length;
    await app.peer.up();
    try {
      await waitUntil(async () => (await campaignStatus(app, id)) === 'sent', 120000, 200);
    } catch (e) {
      await printLedgerState(app, id);
      throw e;
    }
    const counts = receivedCounts(app);
    const duplicates = [...counts.values()].reduce((a, b) => a + b, 0) - counts.size;
    const rows = await app.c.dataSource.query(
      `SELECT status, COUNT(*) AS n FROM deliveries WHERE campaign_id = ? GROUP BY status`,
      [id],
    );
    expect(rows.map((r: { status: string; n: number }) => [r.status, Number(r.n)])).toEqual([['sent', 2000]]);
    expect(counts.size).toBe(2000);
    // At most one message in flight per connection (SMTP sends one at a time on each) ...
    expect(inFlight.length).toBeLessThanOrEqual(pool);
    // ... and exactly those arrive twice: stored by the relay, but the sender never got the reply.
    const twice = [...counts].filter(([, n]) => n > 1).map(([a]) => a);
    expect(twice.sort()).toEqual(inFlight.flatMap((m) => m.rcpt).sort());
    expect(duplicates).toBe(inFlight.length);
    // Each copy with the same Message-ID (fixed per campaign and member), so the mailbox folds it.
    const memberIds = new Map<string, number>(
      (await app.c.dataSource.query('SELECT id, email FROM members')).map(
        (r: { id: number; email: string }) => [r.email, Number(r.id)],
      ),
    );
    for (const rcpt of twice) {
      const ids = app.peer.mailsTo(rcpt).map((m) => messageIdOf(m.raw));
      expect(ids).toEqual([0, 1].map(() => `<kk.c${id}.m${memberIds.get(rcpt)}@cosmenor.no>`));
    }
    recordFinding('smtp-outage-30s', {
      members: 2000,
      sentBeforeOutage: duringOutage,
      completedSecondsAfterRecovery: Math.round((Date.now() - downAt - 30000) / 100) / 10,
      lost: 0,
      inFlightAtCut: inFlight.length,
      duplicates,
      connections: pool,
    });
  });
});
