import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Container } from '../src/container';
import { createDeliveryWorker } from '../src/jobs';
import { compileNewsletter, encodeNewsletter, fillNewsletter } from '../src/newsletter/renderer';
import { BackgroundWorker } from '../src/worker';
import {
  argInt,
  argValue,
  benchCampaign,
  bulkInsertActiveMembers,
  createBenchDatabase,
  log,
  openContainer,
  passOnWarnings,
  printResult,
  ROOT,
  round,
  runBench,
  serviceEnv,
  sleep,
  stopChild,
  tempDir,
  waitForCampaignStatus,
} from './support/bench-env';
import { rawNodemailerMsgsPerSec } from './support/raw-nodemailer';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink';

/**
 * Delivery throughput. Per database (SQLite, MariaDB): a campaign of `--members` active members
 * (default 20,000) sent by one in-process DeliveryWorker (pool of 5) to a local SMTP sink running
 * in its own process, timed from `send` to the campaign being `sent`; in the same run, a bare
 * nodemailer pool of 5, with as many messages in flight as the worker keeps, sends as many
 * pre-rendered messages of the same size to the same sink (`ratio`, the baseline: nodemailer
 * encodes each message's html and text), and then the worker's exact pre-encoded messages
 * (`ratioToEncoded`: what the ledger, re-check, token and throttle cost on top of SMTP alone).
 * Then the scale-out run on MariaDB (issue 8): one and then two worker processes
 * (`node bin/kundeklubb.js worker`) against a sink that holds each message `--latency` ms, so the
 * relay, not the worker, bounds one worker (a bare pool of 5 through the same relay is the
 * reference). One JSON line per database, one for the scale run.
 *
 *   --members N        campaign size for the per-database runs (20000)
 *   --only LIST        any of sqlite,mariadb,scale (all three)
 *   --scale-members N  campaign size for the scale run (10000)
 *   --latency MS       per-message sink latency in the scale run (20)
 */

const POOL_SIZE = 5;
/** Messages the worker keeps in flight: createDeliveryWorker (src/jobs.ts) runs two sender loops per connection. The raw pool gets the same. */
const IN_FLIGHT = POOL_SIZE * 2;
const SEND_RATE = 100_000;
const MAIL_FROM = 'Sothys Kundeklubb <nyhetsbrev@cosmenor.no>';

async function createFrozenCampaign(c: Container, name: string): Promise<number> {
  const view = await c.campaigns.create(benchCampaign(name));
  return view.id;
}

/** One message as the worker would build it, for the raw baseline: same render, same size. */
async function renderOne(c: Container, campaignId: number) {
  // The same compile the worker's frozen render comes from (compileNewsletter over the stored content).
  const campaign = await c.campaigns.get(campaignId);
  const compiled = await compileNewsletter(
    { subject: campaign.subject, preheader: campaign.preheader ?? undefined, blocks: campaign.blocks },
    { publicUrl: c.config.publicUrl, privacyContact: c.config.privacyContact },
  );
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

async function perDatabase(kind: 'sqlite' | 'mysql', members: number): Promise<void> {
  const dbName = kind === 'mysql' ? 'mariadb' : 'sqlite';
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
    log(`${dbName}: ${members} members inserted in ${round((performance.now() - t0) / 1000, 1)} s`);
    const id = await createFrozenCampaign(c, `bench ${dbName}`);

    // Baselines first, same process, same sink. The baseline: a bare pool handed the
    // rendered html and text, which nodemailer encodes per message.
    const { encoded, ...rendered } = await renderOne(c, id);
    const rawMsgsPerSec = await rawNodemailerMsgsPerSec({
      url: sink.url,
      from: MAIL_FROM,
      connections: POOL_SIZE,
      inFlight: IN_FLIGHT,
      n: members,
      prefix: `${dbName}-raw`,
      mail: rendered,
    });
    await expectSink(sink, members, 'raw nodemailer');
    await sink.reset();
    log(
      `${dbName}: raw nodemailer ${round(rawMsgsPerSec)} msgs/s (${Buffer.byteLength(rendered.html) + Buffer.byteLength(rendered.text)} bytes of html+text)`,
    );
    // The worker's own overhead: the same pool handed exactly the worker's pre-encoded message
    // (no ledger, no re-check, no token, no throttle).
    const rawEncodedMsgsPerSec = await rawNodemailerMsgsPerSec({
      url: sink.url,
      from: MAIL_FROM,
      connections: POOL_SIZE,
      inFlight: IN_FLIGHT,
      n: members,
      prefix: `${dbName}-enc`,
      mail: { ...rendered, encoded },
    });
    await expectSink(sink, members, 'raw nodemailer, pre-encoded');
    await sink.reset();
    log(`${dbName}: raw nodemailer with pre-encoded bodies ${round(rawEncodedMsgsPerSec)} msgs/s`);

    const worker = createDeliveryWorker(c);
    bg = new BackgroundWorker({ logger: c.logger, jobs: [worker] });
    bg.start();
    await sleep(300); // first pump: heartbeat, housekeeping, then idle

    const start = performance.now();
    await c.sending.send(id);
    await waitForCampaignStatus(c, id, 'sent', 30 * 60_000);
    const seconds = (performance.now() - start) / 1000;
    const stats = await c.sending.stats(id);
    if (stats.sent !== members) throw new Error(`campaign: ${stats.sent} sent of ${members}`);
    const { duplicates } = await expectSink(sink, members, 'campaign');
    const msgsPerSec = members / seconds;
    printResult({
      bench: 'delivery',
      db: dbName,
      members,
      seconds: round(seconds, 2),
      msgsPerSec: round(msgsPerSec),
      rawMsgsPerSec: round(rawMsgsPerSec),
      ratio: round(msgsPerSec / rawMsgsPerSec, 2),
      rawEncodedMsgsPerSec: round(rawEncodedMsgsPerSec),
      ratioToEncoded: round(msgsPerSec / rawEncodedMsgsPerSec, 2),
      poolSize: POOL_SIZE,
      inFlight: IN_FLIGHT,
      duplicates,
    });
  } finally {
    await bg?.stop();
    await c?.close();
    await db.drop();
    await sink.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `node bin/kundeklubb.js worker`, exactly as operators run it. */
function spawnWorker(env: Record<string, string>): ChildProcess {
  // With the heap cap the Dockerfile sets (NODE_OPTIONS there).
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=512', path.join(ROOT, 'bin', 'kundeklubb.js'), 'worker'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        KUNDEKLUBB_FROM_SOURCE: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (child.stdout) passOnWarnings(child.stdout);
  return child;
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
    // What one pool of 5 can get through this slow relay at best: the ceiling of one worker.
    const refId = await createFrozenCampaign(c, 'bench scale reference');
    const rawN = Math.min(members, 2000);
    const rawMsgsPerSec = await rawNodemailerMsgsPerSec({
      url: sink.url,
      from: MAIL_FROM,
      connections: POOL_SIZE,
      inFlight: IN_FLIGHT,
      n: rawN,
      prefix: 'scale-raw',
      mail: await renderOne(c, refId),
    });
    await expectSink(sink, rawN, 'raw nodemailer');
    await sink.reset();
    const msgsPerSec: Record<number, number> = {};
    let duplicates = 0;
    for (const workers of [1, 2]) {
      for (let i = 0; i < workers; i++) children.push(spawnWorker(env));
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
      oneWorkerMsgsPerSec: round(msgsPerSec[1]),
      twoWorkersMsgsPerSec: round(msgsPerSec[2]),
      ratio: round(msgsPerSec[2] / msgsPerSec[1], 2),
      duplicates,
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
  const only = new Set(argValue('only', 'sqlite,mariadb,scale').split(','));
  if (only.has('sqlite')) await perDatabase('sqlite', members);
  if (only.has('mariadb')) await perDatabase('mysql', members);
  if (only.has('scale')) await scaleOut(argInt('scale-members', 10_000), argInt('latency', 20));
}

runBench(main);
