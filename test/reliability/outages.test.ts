import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createCampaign, insertActiveMembers, waitUntil } from '../support/club';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';
import { recordFinding } from './findings';

const receivedCounts = (t: TestApp) => {
  const counts = new Map<string, number>();
  for (const m of t.peer.mails) for (const a of m.rcpt) counts.set(a, (counts.get(a) ?? 0) + 1);
  return counts;
};
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

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A MariaDB server of the test's own (own data directory and port), so it can be killed and restarted. */
class PrivateMariaDb {
  private proc: ChildProcess | null = null;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-mariadb-'));
  port = 0;

  async init(): Promise<void> {
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        '--user=root',
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { stdio: 'ignore' },
    );
    this.port = await freePort();
    await this.start();
  }

  async start(): Promise<void> {
    this.proc = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${this.dir}/sock`,
        '--user=root',
        '--innodb-buffer-pool-size=64M',
      ],
      { stdio: 'ignore' },
    );
    await waitUntil(
      async () => {
        try {
          execFileSync('mariadb-admin', ['-h127.0.0.1', `-P${this.port}`, '-uroot', 'ping'], {
            stdio: 'ignore',
          });
          return true;
        } catch {
          return false;
        }
      },
      30000,
      100,
    );
  }

  async kill(): Promise<void> {
    const p = this.proc!;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/test`;
  }

  async destroy(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && !this.proc.signalCode) await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
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

  it('SMTP down for 30 s mid-campaign on MariaDB: waits, then completes; nothing lost', async () => {
    t = await startTestApp('mysql', { peerParse: false });
    const app = t;
    await insertActiveMembers(app, 2000);
    app.peer.setLatency(2);
    bg = new BackgroundWorker({
      logger: app.c.logger,
      jobs: [createDeliveryWorker(app.c, { sendRate: 400, housekeepingMs: 500 })],
    });
    bg.start();
    const id = await createCampaign(app);
    await campaignAction(app, id, 'send');
    await waitUntil(async () => app.peer.mails.length >= 500, 60000, 10);
    await app.peer.down();
    const downAt = Date.now();
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
    // A connection cut after the peer stored a message but before the client read "250" can repeat it.
    expect(duplicates).toBeLessThanOrEqual(5);
    recordFinding('smtp-outage-30s', {
      members: 2000,
      sentBeforeOutage: duringOutage,
      completedSecondsAfterRecovery: Math.round((Date.now() - downAt - 30000) / 100) / 10,
      lost: 0,
      duplicates,
    });
  });

  it('MariaDB killed and restarted mid-campaign: the worker resumes; nobody missed', async () => {
    const db = new PrivateMariaDb();
    await db.init();
    try {
      t = await startTestApp('mysql', { peerParse: false, mysqlUrl: db.url });
      const app = t;
      await insertActiveMembers(app, 1500);
      app.peer.setLatency(2);
      bg = new BackgroundWorker({
        logger: app.c.logger,
        jobs: [createDeliveryWorker(app.c, { sendRate: 400, housekeepingMs: 500, leaseMs: 3000 })],
      });
      bg.start();
      const id = await createCampaign(app);
      await campaignAction(app, id, 'send');
      await waitUntil(async () => app.peer.mails.length >= 400, 60000, 10);
      await db.kill();
      const killedAt = app.peer.mails.length;
      await new Promise((r) => setTimeout(r, 3000));
      await db.start();
      try {
        await waitUntil(
          async () => {
            try {
              return (await campaignStatus(app, id)) === 'sent';
            } catch {
              return false;
            }
          },
          120000,
          250,
        );
      } catch (e) {
        await printLedgerState(app, id);
        throw e;
      }
      const counts = receivedCounts(app);
      const duplicates = [...counts.values()].reduce((a, b) => a + b, 0) - counts.size;
      expect(counts.size).toBe(1500);
      // Outcomes buffered when the database died are re-sent: at most one recording batch plus the connections.
      expect(duplicates).toBeLessThanOrEqual(60);
      recordFinding('mariadb-restart', { members: 1500, sentBeforeKill: killedAt, duplicates, lost: 0 });
    } finally {
      await bg?.stop().catch(() => undefined);
      bg = undefined;
      await t?.close().catch(() => undefined);
      t = undefined;
      await db.destroy();
    }
  });
});
