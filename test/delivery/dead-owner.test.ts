import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import {
  campaignAction,
  createActiveMembers,
  createCampaign,
  insertActiveMembers,
  newsletterCounts,
  runDeliveryWorker,
  stats,
  waitUntil,
} from '../support/club';
import { serviceEnv, spawnService, stopProcess, type ServiceProcess } from '../support/worker-process';
import type { BackgroundWorker } from '../../src/worker';

const SUBJECT = 'Julekalender hos Sothys';
const RETOOK = 'retook deliveries from a worker that is gone';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A worker that stops heartbeating is gone: its claims go back to the queue once it has been
 * silent for 8 s, though their lease (60 s by default) runs on. A worker that is only slow keeps
 * them. The processes here run with the service's own timings (no lease or heartbeat overrides).
 */
describe.each(databaseKinds())('claims of a gone worker on %s', (kind) => {
  let t: TestApp;
  const running: BackgroundWorker[] = [];
  const processes: ServiceProcess[] = [];
  beforeEach(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
  });
  afterEach(async () => {
    for (const w of running.splice(0)) await w.stop();
    for (const p of processes.splice(0)) await stopProcess(p.child, 5000);
    await t?.close();
  });

  const claimedBy = async (owner: string, ids?: number[]): Promise<number[]> =>
    (
      await t.c.dataSource.query(
        `SELECT id FROM deliveries WHERE status = 'sending' AND claimed_by LIKE ?${ids ? ` AND id IN (${ids.join(',')})` : ''} ORDER BY id`,
        [owner],
      )
    ).map((r: { id: number }) => Number(r.id));

  /** A `kundeklubb worker` process, once its reaper may act (it has seen the database for 5 beats). */
  async function armedWorkerProcess(env: Record<string, string>): Promise<ServiceProcess> {
    const p = spawnService('worker', {
      env: serviceEnv({ config: t.config, databaseUrl: t.db.url, smtpUrl: t.peer.url, env }),
    });
    processes.push(p);
    const id = `%-${p.child.pid}-%`;
    await waitUntil(
      async () => (await t.c.dataSource.query('SELECT id FROM workers WHERE id LIKE ?', [id])).length > 0,
      30000,
    );
    await sleep(6000);
    return p;
  }

  it("retakes a silent worker's claims before their lease runs out; a claim whose worker has no heartbeat row waits for its lease; a live worker's stays", async () => {
    await createActiveMembers(t, 8);
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    const store = t.c.deliveryStore;
    const minute = 60_000;
    // Three owners, each with two rows leased for another minute: one beat once and fell silent,
    // one never wrote a heartbeat row, one keeps beating.
    const silentAt = Date.now();
    await store.heartbeat('gone-owner', new Date(silentAt));
    const gone = (await store.claim('gone-owner', [id], 2, new Date(), minute)).map((r) => r.id);
    const rowless = (await store.claim('rowless-owner', [id], 2, new Date(), minute)).map((r) => r.id);
    const live = (await store.claim('live-owner', [id], 2, new Date(), minute)).map((r) => r.id);
    await store.heartbeat('live-owner', new Date());
    const beating = setInterval(() => void store.heartbeat('live-owner', new Date()), 100);
    try {
      running.push(runDeliveryWorker(t.c, { housekeepingMs: 100, ownerSilentMs: 1000, retryBaseMs: 100 }).bg);
      // The two free rows, and the silent owner's two once it has been silent for 1 s.
      await waitUntil(async () => (await stats(t, id)).sent === 4, 20000);
      const tookMs = Date.now() - silentAt;
      expect(tookMs).toBeGreaterThanOrEqual(1000);
      expect(tookMs).toBeLessThan(minute / 4);
      expect(await claimedBy('gone-owner')).toEqual([]);
      expect(await claimedBy('rowless-owner')).toEqual(rowless);
      expect(await claimedBy('live-owner')).toEqual(live);
      expect(gone).toHaveLength(2);
      expect([...newsletterCounts(t, SUBJECT).values()]).toEqual([1, 1, 1, 1]);
    } finally {
      clearInterval(beating);
    }
  });

  it('kill -9 of a worker process: another worker process retakes its claims within 10 s (not after the 60 s lease); each member once but the in-flight window', async () => {
    const members = 800;
    await insertActiveMembers(t, members);
    t.peer.setLatency(3);
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    const env = { SEND_RATE: '40', SMTP_POOL_SIZE: '2' };
    const b = await armedWorkerProcess(env);
    const a = spawnService('worker', {
      env: serviceEnv({ config: t.config, databaseUrl: t.db.url, smtpUrl: t.peer.url, env }),
    });
    processes.push(a);
    const owner = `%-${a.child.pid}-%`;
    await waitUntil(async () => (await claimedBy(owner)).length > 0, 30000, 20);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitUntil(async () => (await claimedBy(owner)).length === 0, 30000, 50);
    const retakeMs = Date.now() - killedAt;
    console.log(`[dead owner ${kind}] claims of the killed worker retaken ${retakeMs} ms after kill -9`);
    expect(retakeMs).toBeLessThanOrEqual(10_000);
    // The other process said so (its log line may reach the pipe a moment after the rows changed).
    await waitUntil(async () => b.output.some((l) => l.includes(RETOOK)), 5000, 50);

    await waitUntil(async () => (await stats(t, id)).status === 'sent', 90000, 100);
    const counts = newsletterCounts(t, SUBJECT);
    const duplicates = [...counts.values()].reduce((x, y) => x + y, 0) - counts.size;
    expect(counts.size).toBe(members);
    // At most what the killed worker had sent and not yet recorded: one recording batch and its connections.
    expect(duplicates).toBeLessThanOrEqual(50 + 2);
  });

  it('a live worker whose event loop stalls for 5 s keeps its claims: the other worker process takes none of them', async () => {
    await insertActiveMembers(t, 300);
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    // Both with the service's timings: heartbeat every second, gone after 8 s of silence.
    const b = await armedWorkerProcess({ SEND_RATE: '20', SMTP_POOL_SIZE: '1' });
    const { bg } = runDeliveryWorker(t.c, { workerId: 'A', sendRate: 20, concurrency: 2 });
    running.push(bg);
    const held = await waitUntil(async () => {
      const ids = await claimedBy('A');
      return ids.length > 0 && ids;
    }, 30000);
    // This process (worker A, and the SMTP peer) stalls; worker B runs on.
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      // busy: no timer, no I/O, no heartbeat
    }
    // A hands over what it held: those rows go out from A, once each.
    await waitUntil(async () => (await claimedBy('%', held)).length === 0, 30000);
    const sent = await t.c.dataSource.query(
      `SELECT COUNT(*) AS n FROM deliveries WHERE status = 'sent' AND id IN (${held.join(',')})`,
    );
    expect(Number(sent[0].n)).toBe(held.length);
    expect(b.output.some((l) => l.includes(RETOOK))).toBe(false);
    expect(t.logs.some((l) => l.includes('claims no longer held by this worker were dropped unsent'))).toBe(
      false,
    );
    await campaignAction(t, id, 'cancel');
    await stopProcess(b.child, 10000);
    expect([...newsletterCounts(t, SUBJECT).values()].every((n) => n === 1)).toBe(true);
  });
});
