import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { Container } from '../src/container';
import {
  benchCampaign,
  createBenchDatabase,
  log,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  settled,
  startChildServer,
  stopChild,
  tempDir,
} from './support/bench-env';
import { measureLoad, type LoadFigures } from './support/load';

/**
 * The click redirect `GET /r/{campaignId}/{n}` on MariaDB. A sent campaign of three links; the
 * service's HTTP app in a child process; autocannon, 20 connections, each request one of the three
 * links in turn with a browser's user agent (so every one counts). Baseline, same load, same run:
 * bare express + mysql2 doing the same redirect after one `UPDATE … SET clicks = clicks + 1`.
 * The two take turns, ROUNDS times (a 2 s warm-up, then about 6 s measured), so both meet the
 * same machine; the result is each one's median round. Checks: every answer a 302, and the
 * service's counters rose by exactly its measured answers. Goal (issue #19): ≥ 0.8× the
 * baseline, p99 < 20 ms.
 */

const CONNECTIONS = 20;
const ROUNDS = 3;
const SECONDS = 6;
const WARMUP_SECONDS = 2;
const BROWSER =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

async function measureRound(
  url: string,
  campaignId: number,
  links: number,
  betweenRuns?: () => Promise<void>,
) {
  let i = 0;
  const { figures } = await measureLoad({
    url,
    path: `/r/${campaignId}/1`,
    headers: { 'user-agent': BROWSER },
    setupRequest: (req) => ({ ...req, path: `/r/${campaignId}/${(i++ % links) + 1}` }),
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    seconds: SECONDS,
    betweenRuns,
  });
  const notRedirects = figures.ok + figures.non2xx - figures.redirects + figures.errors;
  if (notRedirects) throw new Error(`${url}: ${notRedirects} answers were not a 302`);
  return figures;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function summary(rounds: LoadFigures[]) {
  const m = rounds.find((r) => r.reqPerSec === median(rounds.map((x) => x.reqPerSec)))!;
  return {
    reqPerSec: m.reqPerSec,
    p50Ms: m.p50Ms,
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    redirects: rounds.reduce((s, r) => s + r.redirects, 0),
    rounds: rounds.map((r) => ({ reqPerSec: r.reqPerSec, p99Ms: r.p99Ms })),
  };
}

async function main(): Promise<void> {
  const db = await createBenchDatabase('mysql');
  const bareDb = await createBenchDatabase('mysql');
  const dataDir = tempDir('clicks');
  const children: ChildProcess[] = [];
  let c: Container | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, { LOG_LEVEL: 'info', ROLE: 'api' });
    c = await openContainer(env);
    // No members: sending freezes the render and the link list, and the campaign is sent at once.
    const campaign = await c.campaigns.create(benchCampaign('Klikk'));
    await c.sending.send(campaign.id);
    const links = campaign.blocks.flatMap((b) => (b.link ? [b.link.url] : []));
    const sumClicks = async () =>
      Number(
        (
          await c!.dataSource.query(
            'SELECT COALESCE(SUM(clicks), 0) AS n FROM click_counts WHERE campaign_id = ?',
            [campaign.id],
          )
        )[0].n,
      );

    const service = await startChildServer('serve-app.ts', env);
    const bare = await startChildServer('bare-click-server.ts', {
      BARE_MYSQL_URL: bareDb.url,
      CAMPAIGN_ID: String(campaign.id),
      LINKS: JSON.stringify(links),
    });
    children.push(service.child, bare.child);
    const probe = await fetch(`${service.url}/r/${campaign.id}/2`, {
      redirect: 'manual',
      headers: { 'user-agent': BROWSER },
    });
    if (probe.status !== 302 || probe.headers.get('location') !== links[1])
      throw new Error(`GET /r/ answered ${probe.status} ${probe.headers.get('location')}`);

    const s: LoadFigures[] = [];
    const b: LoadFigures[] = [];
    let counted = 0;
    for (let r = 0; r < ROUNDS; r++) {
      let before = 0;
      const figures = await measureRound(service.url, campaign.id, links.length, async () => {
        before = await settled(sumClicks);
      });
      const rose = (await settled(sumClicks)) - before;
      if (rose !== figures.redirects)
        throw new Error(`${rose} clicks counted for ${figures.redirects} redirects`);
      counted += rose;
      s.push(figures);
      b.push(await measureRound(bare.url, campaign.id, links.length));
      log(`round ${r + 1}: service ${figures.reqPerSec} req/s, baseline ${b[r].reqPerSec} req/s`);
    }

    const service50 = summary(s);
    const baseline50 = summary(b);
    const ratio = round(service50.reqPerSec / baseline50.reqPerSec, 2);
    printResult({
      bench: 'clicks',
      db: 'mariadb',
      connections: CONNECTIONS,
      service: { ...service50, counted },
      baseline: baseline50,
      ratio,
      goal: { ratio: 0.8, p99Ms: 20, met: ratio >= 0.8 && service50.p99Ms < 20 },
    });
  } finally {
    for (const child of children) await stopChild(child);
    await c?.close();
    await db.drop();
    await bareDb.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
