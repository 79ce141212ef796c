import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Container } from '../src/container';
import { createDeliveryWorker } from '../src/jobs';
import { encodeNewsletter, fillNewsletter } from '../src/newsletter/renderer';
import { BackgroundWorker } from '../src/worker';
import {
  argInt,
  argValue,
  benchCampaign,
  bulkInsertActiveMembers,
  createBenchDatabase,
  log,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  sleep,
  spawnKundeklubb,
  stopChild,
  tempDir,
  waitForCampaignStatus,
} from './support/bench-env';
import { rawNodemailerMsgsPerSec, type RenderedMail } from './support/raw-nodemailer';
import { loadAverage, median, spread, turnOrder } from './support/rounds';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink';

/**
 * Delivery throughput. Per database (SQLite, MariaDB): a campaign of `--members` active members
 * (default 20,000) sent by one in-process DeliveryWorker (pool of 5) to a local SMTP sink running
 * in its own process, timed from `send` to the campaign being `sent`. Baseline, same run: a bare
 * nodemailer pool of 5, with as many messages in flight as the worker keeps, handing the same
 * sink as many copies of the worker's own pre-encoded message (the campaign's frozen render,
 * filled and encoded as the worker does, sent through the service's toMessageOptions): the
 * headline `ratioToEncoded` is what the ledger, re-check, token, throttle and outcome records cost
 * on top of SMTP alone. For context only, the same pool handed the rendered html and text, which
 * nodemailer encodes per message (`naive`). Each side is warmed up first (a campaign of
 * `--warmup` other members; as many messages through each pool), then the three take turns for
 * `--rounds` rounds (3), the order reversed every other round; each side's median and spread
 * are reported, and `ratioToEncoded` is the median of the rounds' ratios (each round's sides ran
 * minutes apart at most). Then the scale-out run on MariaDB (issue 8): one and then two worker
 * processes (`node bin/kundeklubb.js worker`) against a sink that holds each message `--latency`
 * ms, so the relay, not the worker, bounds one worker; a bare pool of 5 sends as many messages
 * through the same relay. One JSON line per database, one for the scale run.
 *
 *   --members N        campaign size for the per-database runs (20000)
 *   --rounds N         measured rounds per database (3)
 *   --warmup N         messages per side before the rounds (2000)
 *   --only LIST        any of sqlite,mariadb,scale (all three)
 *   --scale-members N  campaign size for the scale run, and the bare pool's count (10000)
 *   --latency MS       per-message sink latency in the scale run (20)
 */

const POOL_SIZE = 5;
/** Messages the worker keeps in flight: createDeliveryWorker (src/jobs.ts) runs two sender loops per connection. The raw pool gets the same. */
const IN_FLIGHT = POOL_SIZE * 2;
const SEND_RATE = 100_000;
const MAIL_FROM = 'Sothys Kundeklubb <nyhetsbrev@cosmenor.no>';
/** Measured campaigns go to the members of this source, warm-up campaigns to the other one. */
const MEASURED_SOURCE = 'osme-mobile';
const WARMUP_SOURCE = 'web';

async function createFrozenCampaign(
  c: Container,
  name: string,
  source: typeof MEASURED_SOURCE | typeof WARMUP_SOURCE = MEASURED_SOURCE,
): Promise<number> {
  const view = await c.campaigns.create({ ...benchCampaign(name), audience: { sources: [source] } });
  return view.id;
}

/**
 * One message as the worker builds it from a sent campaign's frozen render (links through `/r/`,
 * «Vis i nettleser»): the rendered html and text for the naive pool, and the encoded bodies the
 * worker hands its mailer for the pre-encoded one.
 */
async function renderOne(c: Container, sentCampaignId: number): Promise<RenderedMail> {
  const compiled = await c.sending.compiled(sentCampaignId);
  const unsubscribeUrl = `${c.config.publicUrl}/u/${c.tokens.sign({ scope: 'unsubscribe', memberId: 12345 })}`;
  const values = { firstName: 'Navn12345', unsubscribeUrl };
  return {
    ...fillNewsletter(compiled, values),
    unsubscribeUrl,
    encoded: encodeNewsletter(compiled, values).encoded,
  };
}

async function expectSink(sink: SmtpSink, n: number, what: string): Promise<{ duplicates: number }> {
  const s = await sink.stats();
  if (s.distinct !== n || s.messages !== n) {
    throw new Error(
      `${what}: the sink received ${s.messages} messages to ${s.distinct} distinct recipients, expected ${n}`,
    );
  }
  return { duplicates: s.duplicates };
}

/** Sends a campaign to the members of `source` with the running worker; messages per second from `send` to `sent`. */
async function sendCampaign(
  c: Container,
  name: string,
  source: typeof MEASURED_SOURCE | typeof WARMUP_SOURCE,
  n: number,
) {
  const id = await createFrozenCampaign(c, name, source);
  const start = performance.now();
  await c.sending.send(id);
  await waitForCampaignStatus(c, id, 'sent', 30 * 60_000);
  const seconds = (performance.now() - start) / 1000;
  const stats = await c.sending.stats(id);
  if (stats.sent !== n) throw new Error(`${name}: ${stats.sent} sent of ${n}`);
  return { id, msgsPerSec: n / seconds };
}

type Side = 'worker' | 'encoded' | 'naive';

async function perDatabase(
  kind: 'sqlite' | 'mysql',
  members: number,
  rounds: number,
  warmup: number,
): Promise<void> {
  const dbName = kind === 'mysql' ? 'mariadb' : 'sqlite';
  const loadBefore = loadAverage();
  const sink = await startSmtpSink();
  const db = await createBenchDatabase(kind);
  const dataDir = tempDir('delivery');
  let c: Container | undefined;
  let bg: BackgroundWorker | undefined;
  try {
    c = await openContainer(
      serviceEnv(db.url, dataDir, {
        SMTP_URL: sink.url,
        SEND_RATE: String(SEND_RATE),
        SMTP_POOL_SIZE: String(POOL_SIZE),
        MAIL_FROM,
      }),
    );
    const t0 = performance.now();
    await bulkInsertActiveMembers(c.dataSource, members, `${dbName}-medlem`);
    await bulkInsertActiveMembers(c.dataSource, warmup, `${dbName}-oppvarming`);
    await c.dataSource.query(`UPDATE members SET source = ? WHERE email LIKE ?`, [
      WARMUP_SOURCE,
      `${dbName}-oppvarming%`,
    ]);
    log(
      `${dbName}: ${members} + ${warmup} members inserted in ${round((performance.now() - t0) / 1000, 1)} s`,
    );

    const worker = createDeliveryWorker(c);
    bg = new BackgroundWorker({ logger: c.logger, jobs: [worker] });
    bg.start();
    await sleep(300); // first pump: heartbeat, housekeeping, then idle

    // Warm-up, every side: JIT, connections, the campaign's encode plan, the database's caches.
    const warm = await sendCampaign(c, `bench ${dbName} warm-up`, WARMUP_SOURCE, warmup);
    await expectSink(sink, warmup, 'warm-up campaign');
    await sink.reset();
    const mail = await renderOne(c, warm.id);
    const { encoded: _encoded, ...naiveMail } = mail;
    const pool = (side: 'encoded' | 'naive', n: number, prefix: string) =>
      rawNodemailerMsgsPerSec({
        url: sink.url,
        from: MAIL_FROM,
        connections: POOL_SIZE,
        inFlight: IN_FLIGHT,
        n,
        prefix,
        mail: side === 'encoded' ? mail : naiveMail,
      });
    for (const side of ['encoded', 'naive'] as const) {
      await pool(side, warmup, `${dbName}-${side}-warm`);
      await expectSink(sink, warmup, `${side} pool warm-up`);
      await sink.reset();
    }
    log(
      `${dbName}: warmed up; ${Buffer.byteLength(mail.encoded!.html) + Buffer.byteLength(mail.encoded!.text)} bytes of encoded html+text per message`,
    );

    const perSide: Record<Side, number[]> = { worker: [], encoded: [], naive: [] };
    let duplicates = 0;
    for (let r = 0; r < rounds; r++) {
      for (const side of turnOrder<Side>(['worker', 'encoded', 'naive'], r)) {
        let msgsPerSec: number;
        if (side === 'worker') {
          msgsPerSec = (await sendCampaign(c, `bench ${dbName} ${r + 1}`, MEASURED_SOURCE, members))
            .msgsPerSec;
          duplicates += (await expectSink(sink, members, `campaign, round ${r + 1}`)).duplicates;
        } else {
          msgsPerSec = await pool(side, members, `${dbName}-${side}-${r + 1}-`);
          await expectSink(sink, members, `${side} pool, round ${r + 1}`);
        }
        await sink.reset();
        perSide[side].push(msgsPerSec);
      }
      log(
        `${dbName} round ${r + 1}: worker ${round(perSide.worker[r])}, pre-encoded pool ${round(perSide.encoded[r])}, naive pool ${round(perSide.naive[r])} msgs/s`,
      );
    }

    const toEncoded = perSide.worker.map((w, i) => w / perSide.encoded[i]);
    const toNaive = perSide.worker.map((w, i) => w / perSide.naive[i]);
    const side = (xs: number[]) => {
      const s = spread(xs);
      return { msgsPerSec: s.median, min: s.min, max: s.max, rounds: xs.map((x) => round(x)) };
    };
    printResult({
      bench: 'delivery',
      db: dbName,
      members,
      rounds,
      warmup,
      worker: side(perSide.worker),
      baseline: {
        what: "nodemailer pool of 5 sending the worker's own pre-encoded message",
        ...side(perSide.encoded),
      },
      ratioToEncoded: round(median(toEncoded), 2),
      ratioToEncodedMin: round(Math.min(...toEncoded), 2),
      ratioToEncodedMax: round(Math.max(...toEncoded), 2),
      naive: {
        what: 'context only: the same pool handed the rendered html and text (nodemailer encodes each)',
        ...side(perSide.naive),
        ratio: round(median(toNaive), 2),
      },
      poolSize: POOL_SIZE,
      inFlight: IN_FLIGHT,
      duplicates,
      loadAverage: { before: loadBefore, after: loadAverage() },
    });
  } finally {
    await bg?.stop();
    await c?.close();
    await db.drop();
    await sink.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function waitForWorkers(c: Container, n: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row]: Array<{ n: number | string }> = await c.dataSource.query(
      'SELECT COUNT(*) AS n FROM workers',
    );
    if (Number(row.n) >= n) return;
    if (Date.now() > deadline)
      throw new Error(`only ${row.n} of ${n} workers came up within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function scaleOut(members: number, latencyMs: number): Promise<void> {
  const loadBefore = loadAverage();
  const sink = await startSmtpSink();
  await sink.setLatency(latencyMs);
  const db = await createBenchDatabase('mysql');
  const dataDir = tempDir('scale');
  const children: ChildProcess[] = [];
  let c: Container | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, {
      SMTP_URL: sink.url,
      SEND_RATE: String(SEND_RATE),
      SMTP_POOL_SIZE: String(POOL_SIZE),
      MAIL_FROM,
      ROLE: 'worker',
    });
    c = await openContainer(env);
    await bulkInsertActiveMembers(c.dataSource, members, 'scale-medlem');
    // What one pool of 5 can get through this slow relay at best, as many messages as each
    // campaign: the ceiling of one worker. Its message is the worker's own, from a frozen render
    // (a campaign sent to nobody: the warm-up source has no members here).
    const refId = await createFrozenCampaign(c, 'bench scale reference', WARMUP_SOURCE);
    await c.sending.send(refId);
    const mail = await renderOne(c, refId);
    const rawMsgsPerSec = await rawNodemailerMsgsPerSec({
      url: sink.url,
      from: MAIL_FROM,
      connections: POOL_SIZE,
      inFlight: IN_FLIGHT,
      n: members,
      prefix: 'scale-raw',
      mail,
    });
    await expectSink(sink, members, 'raw nodemailer');
    log(`scale: bare pool ${round(rawMsgsPerSec)} msgs/s through the ${latencyMs} ms relay`);
    await sink.reset();
    const msgsPerSec: Record<number, number> = {};
    let duplicates = 0;
    for (const workers of [1, 2]) {
      for (let i = 0; i < workers; i++) children.push(spawnKundeklubb('worker', env));
      await waitForWorkers(c, workers);
      await sleep(300);
      const id = await createFrozenCampaign(c, `bench scale ${workers}`);
      const start = performance.now();
      await c.sending.send(id);
      await waitForCampaignStatus(c, id, 'sent', 30 * 60_000);
      const seconds = (performance.now() - start) / 1000;
      msgsPerSec[workers] = members / seconds;
      const s = await sink.stats();
      if (s.distinct !== members)
        throw new Error(`${workers} worker(s): ${s.distinct} distinct recipients, expected ${members}`);
      duplicates += s.duplicates;
      log(`scale: ${workers} worker(s) ${round(msgsPerSec[workers])} msgs/s, ${s.duplicates} duplicates`);
      for (const child of children.splice(0)) {
        const code = await stopChild(child);
        if (code !== 0) throw new Error(`worker exited with ${code}`);
      }
      await sink.reset();
    }
    printResult({
      bench: 'delivery-scale',
      db: 'mariadb',
      members,
      poolSizePerWorker: POOL_SIZE,
      sinkLatencyMs: latencyMs,
      rawPoolMsgsPerSec: round(rawMsgsPerSec),
      rawPoolMessages: members,
      oneWorkerMsgsPerSec: round(msgsPerSec[1]),
      twoWorkersMsgsPerSec: round(msgsPerSec[2]),
      ratio: round(msgsPerSec[2] / msgsPerSec[1], 2),
      oneWorkerToRawPool: round(msgsPerSec[1] / rawMsgsPerSec, 2),
      duplicates,
      loadAverage: { before: loadBefore, after: loadAverage() },
    });
  } finally {
    for (const child of children) await stopChild(child);
    await c?.close();
    await db.drop();
    await sink.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const members = argInt('members', 20_000);
  const rounds = argInt('rounds', 3);
  const warmup = argInt('warmup', 2000);
  const only = new Set(argValue('only', 'sqlite,mariadb,scale').split(','));
  if (only.has('sqlite')) await perDatabase('sqlite', members, rounds, warmup);
  if (only.has('mariadb')) await perDatabase('mysql', members, rounds, warmup);
  if (only.has('scale')) await scaleOut(argInt('scale-members', 10_000), argInt('latency', 20));
}

runBench(main);
