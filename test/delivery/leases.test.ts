import request from 'supertest';
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
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { createDeliveryWorker } from '../../src/jobs';
import type { BackgroundWorker } from '../../src/worker';
import { DeliveryStore } from '../../src/delivery/delivery.store';
import type { DeliveryWorker } from '../../src/delivery/delivery.worker';

const SUBJECT = 'Julekalender hos Sothys';
const connectionLost = () =>
  Object.assign(new Error('Connection lost: The server closed the connection.'), {
    code: 'PROTOCOL_CONNECTION_LOST',
    fatal: true,
  });

describe.each(databaseKinds())('leases and the reaper on %s', (kind) => {
  let t: TestApp;
  let running: BackgroundWorker[] = [];
  beforeEach(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
  });
  afterEach(async () => {
    for (const w of running) await w.stop();
    running = [];
    await t?.close();
  });

  function startWorker(
    overrides: Parameters<typeof createDeliveryWorker>[1] = {},
    store?: DeliveryStore,
  ): DeliveryWorker {
    const c = store ? { ...t.c, deliveryStore: store } : t.c;
    const { worker, bg } = runDeliveryWorker(c, { housekeepingMs: 100, retryBaseMs: 100, ...overrides });
    running.push(bg);
    return worker;
  }

  it("takes back a silent worker's expired claims, never a live worker's, however long expired", async () => {
    await createActiveMembers(t, 6);
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    const store = t.c.deliveryStore;
    // Two workers claimed and their leases ran out: one still writes heartbeats, one fell silent.
    await store.claim('live-owner', [id], 3, new Date(), -60_000);
    await store.claim('gone-owner', [id], 2, new Date(), -60_000);
    await store.heartbeat('live-owner', new Date());
    const heartbeat = setInterval(() => void store.heartbeat('live-owner', new Date()), 100);
    try {
      startWorker({ ownerSilentMs: 1000, leaseMs: 2000 });
      // The one free row, and the silent worker's two once it has seen the database for 1 s.
      await waitUntil(async () => (await stats(t, id)).sent === 3, 20000);
      const held = await t.c.dataSource.query(
        `SELECT COUNT(*) AS n FROM deliveries WHERE claimed_by = 'live-owner' AND status = 'sending'`,
      );
      expect(Number(held[0].n)).toBe(3);
    } finally {
      clearInterval(heartbeat);
    }
    // Silent now: its rows are taken back too, and everyone gets the newsletter once.
    const done = await waitUntil(async () => {
      const s = await stats(t, id);
      return s.status === 'sent' && s;
    }, 20000);
    expect(done).toMatchObject({ total: 6, sent: 6 });
    expect([...newsletterCounts(t, SUBJECT).values()]).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('the fence: a worker that cannot renew its leases stops sending; the rows taken over are sent once', async () => {
    await createActiveMembers(t, 40);
    t.peer.setLatency(10);
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    // Worker A renews through a store of its own, which is about to lose the database for its
    // heartbeats and renewals (its reads and recording still work: the harder case).
    const storeA = new DeliveryStore({ dataSource: t.c.dataSource });
    // Slow, so that it still holds claimed rows it has not sent when its renewals start failing.
    // Every worker takes a silence of ownerSilentMs for death, its own included (its fence).
    const a = startWorker(
      { workerId: 'A', concurrency: 2, sendRate: 4, leaseMs: 1000, ownerSilentMs: 500 },
      storeA,
    );
    await waitUntil(async () => (await stats(t, id)).sent >= 3, 20000);
    const heartbeat = jest.spyOn(storeA, 'heartbeat').mockRejectedValue(connectionLost());
    const renew = jest.spyOn(storeA, 'renewLeases').mockRejectedValue(connectionLost());
    const cutAt = Date.now();
    // Worker B sees A fall silent and, after A's leases ran out, takes A's claims over.
    startWorker({ workerId: 'B', concurrency: 2, sendRate: 40, leaseMs: 1000, ownerSilentMs: 500 });
    await waitUntil(
      async () => t.logs.some((l) => l.includes('retook deliveries from a worker that is gone')),
      20000,
    );
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(500);
    // A's database comes back: the rows are no longer A's, so A drops them unsent.
    heartbeat.mockRestore();
    renew.mockRestore();
    const done = await waitUntil(async () => {
      const s = await stats(t, id);
      return s.status === 'sent' && s;
    }, 30000);
    expect(done).toMatchObject({ total: 40, sent: 40 });
    const counts = newsletterCounts(t, SUBJECT);
    expect(counts.size).toBe(40);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    await waitUntil(
      async () => t.logs.some((l) => l.includes('claims no longer held by this worker were dropped unsent')),
      10000,
    );
    expect(a.workerId).toBe('A');
  });
});

describe('a MariaDB outage (connections cut for 3 s, longer than the 2 s lease)', () => {
  const run = process.env.TEST_MYSQL_URL ? it : it.skip;
  let t: TestApp | undefined;
  let proxy: TcpProxy | undefined;
  let running: BackgroundWorker[] = [];
  afterEach(async () => {
    await proxy?.up();
    for (const w of running) await w.stop();
    running = [];
    await t?.close();
    await proxy?.close();
  });

  run(
    'two workers keep and then record their outcomes: 0 missed, 0 duplicates; the API answers 503, then 200',
    async () => {
      const server = new URL(process.env.TEST_MYSQL_URL!);
      proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 3306) });
      const viaProxy = new URL(server.toString());
      viaProxy.port = String(proxy.port);
      t = await startTestApp('mysql', { mysqlUrl: viaProxy.toString(), peerParse: false });
      const app = t;
      await insertActiveMembers(app, 400);
      app.peer.setLatency(2);
      for (const workerId of ['W1', 'W2'])
        running.push(
          runDeliveryWorker(app.c, { workerId, sendRate: 200, leaseMs: 2000, housekeepingMs: 200 }).bg,
        );
      const id = await createCampaign(app);
      await campaignAction(app, id, 'send');
      const received = () => app.peer.mails.filter((m) => m.raw.includes(`<kk.c${id}.m`)).length;
      // Cut while SMTP has taken messages the ledger does not show yet.
      await waitUntil(
        async () => {
          if (received() < 100) return false;
          const [row] = await app.c.dataSource.query(
            `SELECT COUNT(*) AS n FROM deliveries WHERE campaign_id = ? AND status = 'sent'`,
            [id],
          );
          return received() > Number(row.n);
        },
        30000,
        2,
      );
      await proxy.down();
      const ready = await request(app.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.headers['content-type']).toMatch(/application\/problem\+json/);
      const members = await request(app.app)
        .get('/v1/members')
        .set('authorization', `Bearer ${app.tokens.read}`);
      expect(members.status).toBe(503);
      expect(members.body).toMatchObject({ status: 503, title: 'Service unavailable' });
      // The outage itself: longer than the lease.
      await new Promise((r) => setTimeout(r, 3000));
      await proxy.up();

      await waitUntil(
        async () => {
          try {
            return (await stats(app, id)).status === 'sent';
          } catch {
            return false;
          }
        },
        60000,
        100,
      );
      const counts = new Map<string, number>();
      for (const m of app.peer.mails)
        if (m.raw.includes(`<kk.c${id}.m`)) for (const r of m.rcpt) counts.set(r, (counts.get(r) ?? 0) + 1);
      expect(counts.size).toBe(400);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect((await request(app.app).get('/readyz')).status).toBe(200);
      expect(app.logs.some((l) => l.includes('database reachable again'))).toBe(true);
    },
  );
});
