import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Container } from '../src/container';
import { createDeliveryWorker } from '../src/jobs';
import { BackgroundWorker } from '../src/worker';
import {
  argInt,
  argValue,
  benchCampaign,
  bulkInsertActiveMembers,
  imageNodeOptions,
  createBenchDatabase,
  log,
  mb,
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
import { buildImageApp, type ImageApp } from './support/image-app';
import { loadAverage } from './support/rounds';
import { startSmtpSink } from './support/smtp-sink';

/**
 * Memory of a big send: a campaign of `--members` (default 100,000) on SQLite to an SMTP sink in
 * its own process (pool of 5), sent by a separate `kundeklubb worker` process as deployed: the
 * compiled build in the image's runtime layout, with the image's NODE_OPTIONS (support/image-app.ts;
 * `--node-options "…"` tries others, `--from-source` runs the sources through tsx with the heap cap
 * instead, as `npm start` in a checkout does). Samples that process's RSS (VmRSS in /proc) every
 * 100 ms from `send` to `sent`; reports the peak, the peak per quarter of the send, the kernel's
 * high-water mark (VmHWM) and the idle RSS of the worker before the send. The worker should hold
 * a bounded window of the ledger, so the peak must not grow with the campaign (`--members
 * 1000000` for the million-member run).
 *
 * `--in-process`: the earlier figure instead, one DeliveryWorker in this bench's own process
 * (RSS and heap of this process, heap after a full GC). Run it with the service's heap cap
 * (`npm run bench:delivery-rss` does): without it, V8 on a large-memory host lets old garbage
 * grow to ~4x the live heap before its first full collection.
 */

const SAMPLE_MS = 100;
/**
 * How long the worker process idles after its first heartbeat before its RSS is taken as its
 * idle figure: V8 gives back the young generation that start-up grew only after some idle time.
 */
const SETTLE_MS = 30_000;

/** A full GC on demand, to tell retained memory from garbage V8 has not collected yet. */
function fullGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** VmRSS and VmHWM of a process, in bytes (Linux). */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/** Samples `rss()` every SAMPLE_MS while `send` runs: the peak, and the peak by quarter of the send. */
async function sampleWhile(
  rss: () => number,
  send: () => Promise<void>,
): Promise<{ peak: number; quarters: number[]; seconds: number }> {
  let peak = 0;
  const samples: Array<{ at: number; rss: number }> = [];
  const sampler = setInterval(() => {
    const r = rss();
    peak = Math.max(peak, r);
    samples.push({ at: performance.now(), rss: r });
  }, SAMPLE_MS);
  const start = performance.now();
  let lastReport = start;
  // Progress on stderr every 30 s for the long runs.
  const progress = setInterval(() => {
    const now = performance.now();
    if (now - lastReport < 30_000) return;
    lastReport = now;
    log(`${round((now - start) / 1000, 0)} s: peak RSS ${mb(peak)} MB`);
  }, 1000);
  try {
    await send();
  } finally {
    clearInterval(sampler);
    clearInterval(progress);
  }
  const end = performance.now();
  // Peak per quarter of the send: a flat profile means memory does not grow with the campaign.
  const quarters = [0, 1, 2, 3].map((q) =>
    samples
      .filter((x) => x.at >= start + ((end - start) * q) / 4 && x.at < start + ((end - start) * (q + 1)) / 4)
      .reduce((m, x) => Math.max(m, x.rss), 0),
  );
  return { peak, quarters, seconds: (end - start) / 1000 };
}

async function main(): Promise<void> {
  const members = argInt('members', 100_000);
  const inProcess = process.argv.includes('--in-process');
  const fromSource = process.argv.includes('--from-source');
  const nodeOptions = argValue('node-options', '');
  const loadBefore = loadAverage();
  const sink = await startSmtpSink();
  const db = await createBenchDatabase('sqlite');
  const dataDir = tempDir('rss');
  const env = serviceEnv(db.url, dataDir, { SMTP_URL: sink.url, SEND_RATE: '100000', SMTP_POOL_SIZE: '5' });
  let c: Container | undefined;
  let bg: BackgroundWorker | undefined;
  let child: ChildProcess | undefined;
  let image: ImageApp | undefined;
  try {
    c = await openContainer(env);
    const container = c;
    const t0 = performance.now();
    await bulkInsertActiveMembers(c.dataSource, members, 'rss-medlem');
    const insertSeconds = (performance.now() - t0) / 1000;
    log(`${members} members inserted in ${round(insertSeconds, 1)} s`);
    const { id } = await c.campaigns.create(benchCampaign('bench rss'));
    const send = async () => {
      await container.sending.send(id);
      await waitForCampaignStatus(container, id, 'sent', 4 * 3600_000);
    };
    const checkSink = async () => {
      const s = await sink.stats();
      if (s.distinct !== members || s.duplicates !== 0) {
        throw new Error(
          `the sink received ${s.messages} messages to ${s.distinct} distinct recipients, expected ${members}, once each`,
        );
      }
    };
    const common = { db: 'sqlite', members, insertSeconds: round(insertSeconds) };

    if (!inProcess) {
      let worker: ChildProcess;
      let measured: string;
      if (fromSource) {
        worker = spawnKundeklubb('worker', { ...env, ROLE: 'worker' });
        measured = `a separate \`kundeklubb worker\` process (from the sources, ${imageNodeOptions()}): VmRSS`;
      } else {
        image = buildImageApp();
        if (nodeOptions) image.nodeOptions = nodeOptions;
        worker = image.spawn('worker', { ...env, ROLE: 'worker' });
        measured = `a separate \`kundeklubb worker\` process (the compiled build, NODE_OPTIONS=${image.nodeOptions}): VmRSS`;
      }
      child = worker;
      const pid = worker.pid!;
      await waitForFirstHeartbeat(c);
      await sleep(SETTLE_MS);
      const idle = procMemory(pid).rss;
      const run = await sampleWhile(() => procMemory(pid).rss, send);
      const hwm = procMemory(pid).hwm;
      await checkSink();
      printResult({
        bench: 'delivery-rss',
        ...common,
        measured,
        peakRssMb: mb(run.peak),
        peakRssByQuarterMb: run.quarters.map(mb),
        idleRssMb: mb(idle),
        vmHwmMb: mb(hwm),
        seconds: round(run.seconds, 1),
        msgsPerSec: round(members / run.seconds),
        loadAverage: { before: loadBefore, after: loadAverage() },
      });
      return;
    }

    const worker = createDeliveryWorker(c);
    bg = new BackgroundWorker({ logger: c.logger, jobs: [worker] });
    bg.start();
    await sleep(500);
    const baselineRss = process.memoryUsage().rss;
    const baselineHeap = process.memoryUsage().heapUsed;
    let peakHeap = baselineHeap;
    const run = await sampleWhile(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      return m.rss;
    }, send);
    fullGc();
    const afterGc = process.memoryUsage();
    await checkSink();
    printResult({
      bench: 'delivery-rss',
      ...common,
      measured: "this bench's own process, with the worker in it",
      peakRssMb: mb(Math.max(run.peak, baselineRss)),
      // The V8 heap cap this ran with (`npm start` and the Dockerfile: imageNodeOptions()).
      heapLimitMb: mb(v8.getHeapStatistics().heap_size_limit),
      baselineRssMb: mb(baselineRss),
      peakRssByQuarterMb: run.quarters.map(mb),
      peakHeapUsedMb: mb(peakHeap),
      baselineHeapUsedMb: mb(baselineHeap),
      heapUsedAfterGcMb: mb(afterGc.heapUsed),
      rssAfterGcMb: mb(afterGc.rss),
      seconds: round(run.seconds, 1),
      msgsPerSec: round(members / run.seconds),
      loadAverage: { before: loadBefore, after: loadAverage() },
    });
  } finally {
    if (child) {
      const code = await stopChild(child);
      if (code !== 0) log(`the worker process exited with ${code}`);
    }
    image?.remove();
    await bg?.stop();
    await c?.close();
    await db.drop();
    await sink.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Until the worker process has written its first heartbeat (it is up and migrated). */
async function waitForFirstHeartbeat(c: Container, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row]: Array<{ n: number | string }> = await c.dataSource.query(
      'SELECT COUNT(*) AS n FROM workers',
    );
    if (Number(row.n) > 0) return;
    if (Date.now() > deadline)
      throw new Error(`the worker process wrote no heartbeat within ${timeoutMs} ms`);
    await sleep(100);
  }
}

runBench(main);
