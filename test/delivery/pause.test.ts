import type { ChildProcess } from 'node:child_process';
import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import {
  campaignAction,
  createCampaign,
  insertActiveMembers,
  runDeliveryWorker,
  stats,
  waitUntil,
} from '../support/club';
import { spawnWorker, stopProcess } from '../support/worker-process';
import type { BackgroundWorker } from '../../src/worker';

const MEMBERS = 24;
/** Slow enough that the worker's sender loops (SMTP_POOL_SIZE × 2 of them) all wait for the rate. */
const SEND_RATE = 4;
/** At SEND_RATE 4 the old worker sent 8 to 10 more in this time after a pause. */
const WATCH_MS = 2500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pause and cancel keep their promise (CONTRACT §5, issue #14): once the call has answered,
 * nothing more of the campaign reaches the SMTP relay. Claimed rows go back to the queue
 * unsent, and a resume sends every member the rest exactly once.
 */
describe.each(databaseKinds())('pause and cancel stop sending on %s', (kind) => {
  let t: TestApp;
  let running: BackgroundWorker[] = [];
  let children: ChildProcess[] = [];

  beforeEach(async () => {
    t = await startTestApp(kind, { env: { SEND_RATE: String(SEND_RATE) }, peerParse: false });
  });
  afterEach(async () => {
    for (const w of running) await w.stop();
    running = [];
    await Promise.all(children.map((c) => stopProcess(c)));
    children = [];
    await t?.close();
  });

  const newsletters = (id: number) => t.peer.mails.filter((m) => m.raw.includes(`<kk.c${id}.m`));

  function perRecipient(id: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of newsletters(id)) for (const r of m.rcpt) counts.set(r, (counts.get(r) ?? 0) + 1);
    return counts;
  }

  /** Sends a campaign and returns once `n` of its mails reached the relay. */
  async function sendUntil(n: number, ms = 20000): Promise<number> {
    const id = await createCampaign(t);
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
    await waitUntil(async () => newsletters(id).length >= n, ms, 20);
    return id;
  }

  /** The action, and every mail of the campaign that reached the relay after it answered. */
  async function actAndWatch(id: number, action: 'pause' | 'cancel') {
    const r = await campaignAction(t, id, action);
    const answeredAt = Date.now();
    const atAnswer = newsletters(id).length;
    await sleep(WATCH_MS);
    const after = newsletters(id).filter((m) => m.at > answeredAt);
    return { body: r.body, atAnswer, after: after.map((m) => `${m.rcpt.join()} +${m.at - answeredAt} ms`) };
  }

  it('pause: nothing reaches the relay after the answer; resume sends the rest exactly once', async () => {
    await insertActiveMembers(t, MEMBERS);
    running.push(runDeliveryWorker(t.c, { housekeepingMs: 100 }).bg);
    const id = await sendUntil(3);

    const { body, atAnswer, after } = await actAndWatch(id, 'pause');
    expect(after).toHaveLength(0);
    // The answer already counts what went out: nothing is held by a worker any more.
    expect(body).toMatchObject({ status: 'paused', sent: atAnswer, sending: 0, failed: 0, skipped: 0 });
    expect(body.queued).toBe(MEMBERS - atAnswer);
    expect(atAnswer).toBeLessThan(MEMBERS);
    expect(await stats(t, id)).toMatchObject({
      status: 'paused',
      sent: atAnswer,
      queued: MEMBERS - atAnswer,
    });

    expect((await campaignAction(t, id, 'resume')).body.status).toBe('sending');
    const done = await waitUntil(async () => {
      const s = await stats(t, id);
      return s.status === 'sent' && s;
    }, 30000);
    expect(done).toMatchObject({ sent: MEMBERS, queued: 0, failed: 0, skipped: 0 });
    const counts = perRecipient(id);
    expect(counts.size).toBe(MEMBERS);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('cancel: nothing reaches the relay after the answer, and nothing stays queued', async () => {
    await insertActiveMembers(t, MEMBERS);
    running.push(runDeliveryWorker(t.c, { housekeepingMs: 100 }).bg);
    const id = await sendUntil(3);

    const { body, atAnswer, after } = await actAndWatch(id, 'cancel');
    expect(after).toHaveLength(0);
    expect(body).toMatchObject({ status: 'cancelled', sent: atAnswer, queued: 0, sending: 0, failed: 0 });
    expect(atAnswer).toBeLessThan(MEMBERS);
    expect(await stats(t, id)).toMatchObject({ status: 'cancelled', sent: atAnswer, queued: 0 });
    expect((await campaignAction(t, id, 'resume')).status).toBe(409);
  });

  it('pause holds for a worker in another process', async () => {
    await insertActiveMembers(t, MEMBERS);
    children.push(
      spawnWorker({
        config: t.config,
        databaseUrl: t.db.url,
        smtpUrl: t.peer.url,
        env: { SEND_RATE: String(SEND_RATE) },
      }),
    );
    // The first mails wait for the process to start.
    const id = await sendUntil(3, 60000);

    const { body, atAnswer, after } = await actAndWatch(id, 'pause');
    expect(after).toHaveLength(0);
    expect(body).toMatchObject({ status: 'paused', sent: atAnswer, sending: 0 });

    expect((await campaignAction(t, id, 'resume')).body.status).toBe('sending');
    await waitUntil(async () => (await stats(t, id)).status === 'sent', 30000);
    const counts = perRecipient(id);
    expect(counts.size).toBe(MEMBERS);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});
