import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Container } from '../src/container';
import { createDeliveryWorker } from '../src/jobs';
import { BackgroundWorker } from '../src/worker';
import {
  argInt,
  benchCampaign,
  bulkInsertActiveMembers,
  createBenchDatabase,
  log,
  mb,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  sleep,
  tempDir,
  waitForCampaignStatus,
} from './support/bench-env';
import { startSmtpSink } from './support/smtp-sink';

/**
 * Memory of a big send: a campaign of `--members` (default 100,000) on SQLite, one in-process
 * DeliveryWorker (pool of 5) to an SMTP sink in its own process. Samples this process's RSS every
 * 100 ms from `send` to `sent`; reports the peak and the RSS just before sending. The worker should
 * hold a bounded window of the ledger, so the peak must not grow with the campaign
 * (`--members 1000000` for the million-member run). Run it with the service's heap cap
 * (`npm run bench:delivery-rss` does): without it, V8 on a large-memory host lets old garbage
 * grow to ~4x the live heap before its first full collection.
 */

const SAMPLE_MS = 100;

/** A full GC on demand, to tell retained memory from garbage V8 has not collected yet. */
function fullGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

async function main(): Promise<void> {
  const members = argInt('members', 100_000);
  const sink = await startSmtpSink();
  const db = await createBenchDatabase('sqlite');
  const dataDir = tempDir('rss');
  let c: Container | undefined;
  let bg: BackgroundWorker | undefined;
  try {
    c = await openContainer(
      serviceEnv(db.url, dataDir, { SMTP_URL: sink.url, SEND_RATE: '100000', SMTP_POOL_SIZE: '5' }),
    );
    const t0 = performance.now();
    await bulkInsertActiveMembers(c.dataSource, members, 'rss-medlem');
    const insertSeconds = (performance.now() - t0) / 1000;
    log(`${members} members inserted in ${round(insertSeconds, 1)} s`);
    const { id } = await c.campaigns.create(benchCampaign('bench rss'));

    const worker = createDeliveryWorker(c);
    bg = new BackgroundWorker({ logger: c.logger, jobs: [worker] });
    bg.start();
    await sleep(500);
    const baselineRss = process.memoryUsage().rss;

    const baselineHeap = process.memoryUsage().heapUsed;
    let peakRss = baselineRss;
    let peakHeap = baselineHeap;
    const samples: Array<{ at: number; rss: number }> = [];
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      samples.push({ at: performance.now(), rss: m.rss });
    }, SAMPLE_MS);
    const start = performance.now();
    let lastReport = start;
    try {
      await c.sending.send(id);
      // Progress on stderr every 30 s for the long runs.
      const progress = setInterval(() => {
        const now = performance.now();
        if (now - lastReport < 30_000) return;
        lastReport = now;
        log(`${round((now - start) / 1000, 0)} s: peak RSS ${mb(peakRss)} MB`);
      }, 1000);
      try {
        await waitForCampaignStatus(c, id, 'sent', 4 * 3600_000);
      } finally {
        clearInterval(progress);
      }
    } finally {
      clearInterval(sampler);
    }
    const end = performance.now();
    const seconds = (end - start) / 1000;
    // Peak per quarter of the send: a flat profile means memory does not grow with the campaign.
    const quarters = [0, 1, 2, 3].map((q) =>
      samples
        .filter(
          (x) => x.at >= start + ((end - start) * q) / 4 && x.at < start + ((end - start) * (q + 1)) / 4,
        )
        .reduce((m, x) => Math.max(m, x.rss), 0),
    );

    fullGc();
    const afterGc = process.memoryUsage();
    const s = await sink.stats();
    if (s.distinct !== members || s.duplicates !== 0) {
      throw new Error(
        `the sink received ${s.messages} messages to ${s.distinct} distinct recipients, expected ${members}, once each`,
      );
    }
    printResult({
      bench: 'delivery-rss',
      db: 'sqlite',
      members,
      peakRssMb: mb(peakRss),
      // The V8 heap cap this ran with (`npm start` and the Dockerfile use --max-old-space-size=512).
      heapLimitMb: mb(v8.getHeapStatistics().heap_size_limit),
      baselineRssMb: mb(baselineRss),
      peakRssByQuarterMb: quarters.map(mb),
      peakHeapUsedMb: mb(peakHeap),
      baselineHeapUsedMb: mb(baselineHeap),
      heapUsedAfterGcMb: mb(afterGc.heapUsed),
      rssAfterGcMb: mb(afterGc.rss),
      seconds: round(seconds, 1),
      msgsPerSec: round(members / seconds),
      insertSeconds: round(insertSeconds, 1),
    });
  } finally {
    await bg?.stop();
    await c?.close();
    await db.drop();
    await sink.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
