import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import type { Container } from '../src/container';
import { EVENT_TYPES } from '../src/events/event-log';
import { PER_ENDPOINT_CONCURRENCY } from '../src/events/webhook-dispatcher';
import {
  argInt,
  bulkInsertActiveMembers,
  createBenchDatabase,
  forkTs,
  log,
  nextMessage,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  sleep,
  spawnKundeklubb,
  stopChild,
  tempDir,
} from './support/bench-env';
import { loadAverage, median, spread, turnOrder } from './support/rounds';
import type { ReceivedRecord } from './support/webhook-receiver';

/**
 * Webhooks to the apps (issue 17), on MariaDB: a local receiver (a child process) verifies each
 * request's signature with `standardwebhooks`, holds it 50 ms and answers 204.
 * 1. Backlog, `--events` (20,000) member changes in `--rounds` (2) rounds: each round commits its
 *    share of changes (`rectify`, PATCH's path; 4 per member, so order per member is tested) with
 *    no dispatcher running, then the two sides take turns (the order reversed every other round):
 *    - the dispatcher: a `kundeklubb worker` process, as operators run it, is started on the
 *      backlog and stopped once it is delivered; its webhook dispatcher is the one src/jobs.ts builds;
 *    - the baseline: a bare loop of `fetch` POSTs of the same event bodies with as many in flight
 *      as the dispatcher allows per endpoint, each signed by `standardwebhooks` with the same
 *      headers (what WebhookSender sends), no database.
 *    Figure: events per second as the receiver saw them (first to last arrival); each side's
 *    median and spread, and the median of the rounds' ratios.
 * 2. Live: the worker running, members change at a steady rate (`--live-rate`, default half the
 *    bare loop's rate) for `--live-seconds` (20); lag from change (the event's timestamp, taken in
 *    the change's transaction just before it commits) to arrival at the receiver, p50 and p99.
 * Checks (the bench fails otherwise): every event arrives exactly once, with a valid signature,
 * and each member's events arrive in sequence order; the ledger shows every delivery `delivered`.
 * Goal (issue 17): ≥ 0.8× the bare loop; p99 lag under 1 s while not retrying.
 */

type Side = 'dispatcher' | 'bare';

const HOLD_MS = 50;
const CHANGES_PER_MEMBER = 4;
/** Member changes in flight while making the backlog and the live stream. */
const WRITERS = 4;

interface Receiver {
  child: ChildProcess;
  url: string;
  take(): Promise<{ records: ReceivedRecord[]; badSignatures: number }>;
}

async function startReceiver(): Promise<Receiver> {
  const child = forkTs(path.join(__dirname, 'support', 'webhook-receiver.ts'), { HOLD_MS: String(HOLD_MS) });
  const { port } = await nextMessage(child, (m) =>
    (m as { kind?: string }).kind === 'ready' ? (m as { port: number }) : undefined,
  );
  return {
    child,
    url: `http://127.0.0.1:${port}/hook`,
    take: async () => {
      const answer = nextMessage(child, (m) =>
        (m as { kind?: string }).kind === 'records'
          ? (m as { records: ReceivedRecord[]; badSignatures: number })
          : undefined,
      );
      child.send({ cmd: 'take' });
      return answer;
    },
  };
}

/** Events per second between the first and the last arrival. */
function arrivalRate(records: ReceivedRecord[]): { eventsPerSec: number; seconds: number } {
  const times = records.map((r) => r.arrivedAt);
  const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
  return { eventsPerSec: round((records.length - 1) / seconds), seconds: round(seconds, 2) };
}

/** Every expected sequence exactly once, and each member's events in sequence order of arrival. */
function checkDelivery(label: string, records: ReceivedRecord[], expected: number[]): void {
  const seen = new Map<number, number>();
  for (const r of records) seen.set(r.sequence, (seen.get(r.sequence) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).length;
  const missing = expected.filter((s) => !seen.has(s)).length;
  const wanted = new Set(expected);
  const extra = [...seen.keys()].filter((s) => !wanted.has(s)).length;
  if (twice || missing || extra || records.length !== expected.length)
    throw new Error(
      `${label}: ${records.length} arrivals for ${expected.length} events (${twice} twice, ${missing} missing, ${extra} unexpected)`,
    );
  for (const r of records)
    if (r.id !== `msg_${r.sequence}`)
      throw new Error(`${label}: webhook-id ${r.id} for sequence ${r.sequence}`);
  const last = new Map<number, number>();
  for (const r of [...records].sort((a, b) => a.arrivedAt - b.arrivedAt)) {
    const before = last.get(r.memberId) ?? -1;
    if (r.sequence < before)
      throw new Error(`${label}: member ${r.memberId} got event ${r.sequence} after ${before}`);
    last.set(r.memberId, r.sequence);
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** The events after `after`, as the feed (and the dispatcher) present them. */
async function eventBodies(c: Container, after: number): Promise<Array<{ sequence: number; body: string }>> {
  const out: Array<{ sequence: number; body: string }> = [];
  for (let cursor = after; ;) {
    const page = await c.events.list(cursor, 1000);
    if (page.events.length === 0) return out;
    for (const e of page.events) out.push({ sequence: e.sequence, body: JSON.stringify(e) });
    cursor = page.next;
  }
}

/**
 * `concurrency` loops of fetch POSTs to the receiver, one body after another: each signed by
 * `standardwebhooks` with the same headers as the dispatcher's (WebhookSender), the answer read
 * and dropped. No database.
 */
async function bareLoop(
  url: string,
  secret: string,
  bodies: Array<{ sequence: number; body: string }>,
  concurrency: number,
): Promise<void> {
  const signer = new Webhook(secret);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const { sequence, body } = bodies[next++];
        const at = new Date();
        const id = `msg_${sequence}`;
        const res = await fetch(url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Kundeklubb-Webhooks/1',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signer.sign(id, at, body),
          },
          body,
        });
        await res.body?.cancel();
        if (res.status < 200 || res.status >= 300) throw new Error(`bare loop: ${res.status}`);
      }
    }),
  );
}

/** Runs `n` changes with WRITERS in flight, change `i` not before `startAt(i)` (ms since the epoch). */
async function makeChanges(
  n: number,
  change: (i: number) => Promise<unknown>,
  startAt?: (i: number) => number,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < n) {
        const i = next++;
        const wait = startAt ? startAt(i) - Date.now() : 0;
        if (wait > 0) await sleep(wait);
        await change(i);
      }
    }),
  );
}

/** Collects arrivals until `n` have come (or the deadline passes), then a quiet second for strays. */
async function collect(receiver: Receiver, n: number, timeoutMs: number, label: string) {
  const records: ReceivedRecord[] = [];
  let badSignatures = 0;
  const deadline = Date.now() + timeoutMs;
  while (records.length < n) {
    if (Date.now() > deadline)
      throw new Error(`${label}: ${records.length} of ${n} arrived within ${timeoutMs} ms`);
    await sleep(250);
    const got = await receiver.take();
    records.push(...got.records);
    badSignatures += got.badSignatures;
  }
  await sleep(1000);
  const late = await receiver.take();
  records.push(...late.records);
  badSignatures += late.badSignatures;
  if (badSignatures) throw new Error(`${label}: ${badSignatures} requests with a bad signature`);
  return records;
}

/** Stops the worker (SIGTERM: it finishes its sends and gives back its claims) and waits for its exit. */
async function stopWorker(worker: ChildProcess): Promise<void> {
  const code = await stopChild(worker, 30_000);
  if (code !== 0) throw new Error(`worker exited with ${code}`);
}

async function main(): Promise<void> {
  const events = argInt('events', 20_000);
  const rounds = argInt('rounds', 2);
  const liveSeconds = argInt('live-seconds', 20);
  const perRound = Math.floor(events / rounds);
  const members = Math.ceil(perRound / CHANGES_PER_MEMBER);
  const loadBefore = loadAverage();
  const db = await createBenchDatabase('mysql');
  const dataDir = tempDir('webhooks');
  let c: Container | undefined;
  let receiver: Receiver | undefined;
  let worker: ChildProcess | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, { ROLE: 'worker', LOG_LEVEL: 'warn' });
    // http to 127.0.0.1 is refused as a webhook URL in production: the endpoint is made in development mode.
    c = await openContainer({ ...env, NODE_ENV: 'development' });
    const cc = c;
    receiver = await startReceiver();
    const rx = receiver;
    await bulkInsertActiveMembers(c.dataSource, members * (rounds + 1), 'wh-medlem');
    const ids: number[] = (
      await c.dataSource.query(`SELECT id FROM members WHERE email LIKE 'wh-medlem%' ORDER BY id`)
    ).map((r: { id: number }) => Number(r.id));
    const endpoint = await c.webhooks.create({ url: receiver.url, events: [...EVENT_TYPES] });
    const secretSet = nextMessage(receiver.child, (m) =>
      (m as { kind?: string }).kind === 'secret-set' ? true : undefined,
    );
    receiver.child.send({ cmd: 'secret', secret: endpoint.secret });
    await secretSet;

    // Warm-up of the receiver and the bare loop's connections (not counted).
    const warm = Array.from({ length: 200 }, (_, i) => ({
      sequence: -1 - i,
      body: JSON.stringify({
        type: 'warm-up',
        timestamp: new Date().toISOString(),
        sequence: -1 - i,
        data: { memberId: 0 },
      }),
    }));
    await bareLoop(rx.url, endpoint.secret, warm, PER_ENDPOINT_CONCURRENCY);
    await collect(rx, warm.length, 30_000, 'warm-up');

    // ---- 1. backlogs, the sides taking turns ----
    const rate: Record<Side, number[]> = { dispatcher: [], bare: [] };
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const roundIds = ids.slice(r * members, (r + 1) * members);
      const start = await cc.events.lastSequence();
      const made = performance.now();
      await makeChanges(perRound, (i) =>
        cc.members.rectify(roundIds[i % members], { firstName: `Navn${r}-${Math.floor(i / members)}` }),
      );
      const end = await cc.events.lastSequence();
      if (end - start !== perRound) throw new Error(`${end - start} events for ${perRound} changes`);
      log(`round ${r + 1}: ${perRound} changes committed in ${round((performance.now() - made) / 1000)} s`);
      const bodies = await eventBodies(cc, start);
      const expected = bodies.map((b) => b.sequence);
      for (const side of turnOrder<Side>(['bare', 'dispatcher'], r)) {
        if (side === 'bare') {
          await bareLoop(rx.url, endpoint.secret, bodies, PER_ENDPOINT_CONCURRENCY);
        } else {
          worker = spawnKundeklubb('worker', env);
        }
        const records = await collect(rx, perRound, Math.max(120_000, (perRound / 20) * 1000), side);
        if (side === 'dispatcher') {
          await stopWorker(worker!);
          worker = undefined;
        }
        checkDelivery(`round ${r + 1} ${side}`, records, expected);
        rate[side].push(arrivalRate(records).eventsPerSec);
      }
      ratios.push(rate.dispatcher[r] / rate.bare[r]);
      log(`round ${r + 1}: dispatcher ${rate.dispatcher[r]} events/s, bare loop ${rate.bare[r]} events/s`);
    }

    // ---- 2. live: steady changes while a worker runs ----
    const bareRate = median(rate.bare);
    const liveRate = argInt('live-rate', Math.max(1, Math.round(bareRate / 2)));
    const liveIds = ids.slice(rounds * members);
    const liveStart = await cc.events.lastSequence();
    worker = spawnKundeklubb('worker', env);
    await waitForWorker(cc);
    const liveN = liveRate * liveSeconds;
    const t0 = Date.now() + 200;
    await makeChanges(
      liveN,
      (i) =>
        cc.members.rectify(liveIds[i % liveIds.length], {
          firstName: `Live${Math.floor(i / liveIds.length)}`,
        }),
      (i) => t0 + (i * 1000) / liveRate,
    );
    const offered = round(liveN / ((Date.now() - t0) / 1000));
    const liveEnd = await cc.events.lastSequence();
    const liveExpected = Array.from({ length: liveEnd - liveStart }, (_, i) => liveStart + 1 + i);
    const live = await collect(rx, liveExpected.length, 60_000, 'live');
    await stopWorker(worker);
    worker = undefined;
    checkDelivery('live', live, liveExpected);
    const lags = live.map((x) => x.arrivedAt - x.changedAt).sort((a, b) => a - b);

    const [ledger] = await cc.dataSource.query(
      `SELECT COUNT(*) AS n, SUM(state = 'delivered') AS delivered, SUM(attempts > 1) AS retried
       FROM webhook_deliveries WHERE endpoint_id = ?`,
      [endpoint.id],
    );
    const total = perRound * rounds + liveExpected.length;
    const retried = Number(ledger.retried);
    if (Number(ledger.n) !== total || Number(ledger.delivered) !== total)
      throw new Error(`ledger: ${ledger.delivered} of ${ledger.n} rows delivered, ${total} events`);

    const ratio = round(median(ratios), 3);
    const lagP99Ms = Math.round(percentile(lags, 99));
    const side = (xs: number[]) => {
      const sp = spread(xs);
      return { eventsPerSec: sp.median, min: sp.min, max: sp.max, rounds: xs };
    };
    printResult({
      bench: 'webhooks',
      db: 'mariadb',
      events: perRound * rounds,
      rounds,
      holdMs: HOLD_MS,
      concurrency: PER_ENDPOINT_CONCURRENCY,
      dispatcher: { ...side(rate.dispatcher), retried },
      baseline: {
        what: `bare loop of fetch, ${PER_ENDPOINT_CONCURRENCY} in flight, the same bodies signed by standardwebhooks with the same headers, no database`,
        ...side(rate.bare),
      },
      ratio,
      ratios: ratios.map((x) => round(x, 3)),
      live: {
        changesPerSec: offered,
        seconds: liveSeconds,
        events: live.length,
        lagP50Ms: Math.round(percentile(lags, 50)),
        lagP99Ms,
        lagMaxMs: Math.round(lags[lags.length - 1]),
      },
      checks: { exactlyOnce: true, orderPerMember: true, signatures: 'all valid' },
      goal: { ratio: 0.8, lagP99Ms: 1000, met: ratio >= 0.8 && lagP99Ms < 1000 && retried === 0 },
      loadAverage: { before: loadBefore, after: loadAverage() },
    });
  } finally {
    if (worker) await stopChild(worker);
    if (receiver) await stopChild(receiver.child);
    await c?.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Until the worker process has registered (its delivery worker's heartbeat row): its dispatcher polls by then. */
async function waitForWorker(c: Container, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Number((await c.dataSource.query('SELECT COUNT(*) AS n FROM workers'))[0].n) === 0) {
    if (Date.now() > deadline) throw new Error(`no worker came up within ${timeoutMs} ms`);
    await sleep(100);
  }
}

runBench(main);
