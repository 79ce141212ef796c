import { startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createCampaign, insertActiveMembers, waitUntil } from '../support/club';
import { PrivateMariaDb } from '../support/private-mariadb';
import { freePort } from '../support/ports';
import { serviceEnv, spawnService, stopProcess, type ServiceProcess } from '../support/worker-process';
import { recordFinding } from './findings';

const MEMBERS = 1200;
const SEND_RATE = 300;
const DOWN_MS = 3000;

/**
 * The service outlives its database: a real `all` process and a real `worker` process, each with
 * a 2 s lease and with the default (60 s), send a campaign while the MariaDB server is killed
 * (kill -9) and started again five times, 3 s down each (longer than the short lease), at
 * different moments: before the first claim, mid-batch, and while outcomes wait to be recorded.
 * 20 restarts in all. Every member gets the campaign exactly once (0 missed, 0 duplicates), the
 * process never exits, and the API answers 503 while the database is away and 200 after.
 */
describe('MariaDB restarted 20 times during sends', () => {
  const db = new PrivateMariaDb();
  let t: TestApp;
  let service: ServiceProcess | undefined;
  const results: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    await db.init();
    t = await startTestApp('mysql', { peerParse: false, mysqlUrl: db.url });
    await insertActiveMembers(t, MEMBERS);
    t.peer.setLatency(2);
  });
  afterAll(async () => {
    if (service) await stopProcess(service.child, 5000);
    await t?.close().catch(() => undefined);
    await db.destroy();
    if (results.length)
      recordFinding('mariadb-restarts', {
        members: MEMBERS,
        downMs: DOWN_MS,
        restarts: results.reduce((n, r) => n + Number(r.restarts), 0),
        missed: results.reduce((n, r) => n + Number(r.missed), 0),
        duplicates: results.reduce((n, r) => n + Number(r.duplicates), 0),
        runs: results,
      });
  });

  /** The test's own reads: its pool also loses its connections at every restart, so retry. */
  async function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return waitUntil(async () => {
      try {
        return (await t.c.dataSource.query(sql, params)) as T[];
      } catch {
        return null;
      }
    }, 30_000);
  }

  /** Newsletters of this campaign received per address, by its Message-ID. */
  function received(campaignId: number): Map<string, number> {
    const counts = new Map<string, number>();
    const marker = `<kk.c${campaignId}.m`;
    for (const m of t.peer.mails)
      if (m.raw.includes(marker)) for (const a of m.rcpt) counts.set(a, (counts.get(a) ?? 0) + 1);
    return counts;
  }
  const receivedTotal = (id: number) => [...received(id).values()].reduce((a, b) => a + b, 0);

  async function untilReceived(id: number, n: number): Promise<void> {
    await waitUntil(async () => receivedTotal(id) >= n, 120_000, 5);
  }

  /** Waits until SMTP has taken messages whose outcome the ledger does not show yet. */
  async function untilUnrecorded(id: number): Promise<number> {
    return waitUntil(
      async () => {
        const [row] = await query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM deliveries WHERE campaign_id = ? AND status = 'sent'`,
          [id],
        );
        const gap = receivedTotal(id) - Number(row.n);
        return gap > 0 ? gap : null;
      },
      120_000,
      2,
    );
  }

  async function get(port: number, path: string, token?: string) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  }

  const runs: Array<{ role: 'all' | 'worker'; leaseSeconds?: number; lease: string }> = [
    { role: 'all', leaseSeconds: 2, lease: '2 s' },
    { role: 'worker', leaseSeconds: 2, lease: '2 s' },
    { role: 'all', lease: 'the default' },
    { role: 'worker', lease: 'the default' },
  ];

  it.each(runs)(
    '$role process, lease $lease: 5 restarts, 0 missed, 0 duplicates',
    async ({ role, leaseSeconds }) => {
      const port = await freePort();
      service = spawnService(role === 'all' ? 'start' : 'worker', {
        env: serviceEnv({
          config: t.config,
          databaseUrl: t.db.url,
          smtpUrl: t.peer.url,
          env: {
            PORT: String(port),
            SEND_RATE: String(SEND_RATE),
            LOG_LEVEL: 'info',
            ...(leaseSeconds ? { DELIVERY_LEASE_SECONDS: String(leaseSeconds) } : {}),
          },
        }),
      });
      const { child, output } = service;
      try {
        if (role === 'all')
          await waitUntil(async () => output.some((l) => l.includes('"listening"')), 30_000);
        else await waitUntil(async () => output.some((l) => l.includes('"worker started"')), 30_000);
        const token = await t.c.clients.create(`reader-${role}-${leaseSeconds ?? 'default'}`, [
          'members:read',
        ]);

        const startedAt = Date.now();
        const id = await createCampaign(t, { subject: `Omstart ${role} ${leaseSeconds ?? 60}` });
        expect((await campaignAction(t, id, 'send')).status).toBe(202);
        const moments: Array<{ at: string; received: number; unrecorded?: number }> = [];
        const restart = async (at: string, unrecorded?: number) => {
          moments.push({ at, received: receivedTotal(id), unrecorded });
          await db.kill();
          if (role === 'all') {
            // While the database is away: 503 problem+json, from the API and from /readyz.
            const ready = await get(port, '/readyz');
            expect(ready.status).toBe(503);
            expect(ready.type).toMatch(/application\/problem\+json/);
            const api = await get(port, '/v1/members?limit=1', token);
            expect(api.status).toBe(503);
            expect(api.type).toMatch(/application\/problem\+json/);
            expect(JSON.parse(api.body)).toMatchObject({ status: 503, title: 'Service unavailable' });
          }
          await new Promise((r) => setTimeout(r, DOWN_MS));
          await db.start();
          db.restarts++;
        };

        await restart('before the first claim');
        await untilReceived(id, MEMBERS * 0.15);
        await restart('mid-batch');
        await untilReceived(id, MEMBERS * 0.3);
        await restart('while recording', await untilUnrecorded(id));
        await untilReceived(id, MEMBERS * 0.5);
        await restart('mid-batch');
        await untilReceived(id, MEMBERS * 0.7);
        await restart('while recording', await untilUnrecorded(id));

        await waitUntil(
          async () =>
            (await query<{ status: string }>('SELECT status FROM campaigns WHERE id = ?', [id]))[0]
              ?.status === 'sent',
          180_000,
          200,
        );
        const counts = received(id);
        const missed = MEMBERS - counts.size;
        const duplicates = [...counts.values()].reduce((a, b) => a + b, 0) - counts.size;
        const ledger = await query<{ status: string; n: number }>(
          'SELECT status, COUNT(*) AS n FROM deliveries WHERE campaign_id = ? GROUP BY status',
          [id],
        );
        results.push({
          role,
          leaseSeconds: leaseSeconds ?? 60,
          restarts: moments.length,
          missed,
          duplicates,
          moments,
          secondsToComplete: Math.round((Date.now() - startedAt) / 100) / 10,
        });
        expect(child.exitCode).toBeNull();
        expect(ledger.map((r) => [r.status, Number(r.n)])).toEqual([['sent', MEMBERS]]);
        expect(missed).toBe(0);
        expect(duplicates).toBe(0);
        if (role === 'all') {
          await waitUntil(async () => (await get(port, '/readyz')).status === 200, 30_000);
          expect((await get(port, '/v1/members?limit=1', token)).status).toBe(200);
        }
        // Survived by handling the errors, not by the last-resort net.
        expect(output.filter((l) => l.includes('unhandled rejection'))).toEqual([]);
        await stopProcess(child);
        expect(child.exitCode).toBe(0);
      } catch (err) {
        console.log(output.slice(-60).join('\n'));
        throw err;
      } finally {
        await stopProcess(child, 5000);
        service = undefined;
      }
    },
  );
});
