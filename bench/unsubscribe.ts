import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Container } from '../src/container';
import {
  argInt,
  argValue,
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
  stopChild,
  tempDir,
} from './support/bench-env';
import { measureLoad } from './support/load';

/**
 * One-click unsubscribe (RFC 8058) under load. `--members` active members (default 40,000) on a
 * fresh database (`--db mariadb|sqlite`, default mariadb); the service's HTTP app runs in a child
 * process. autocannon, 20 connections: each request is `POST /u/:token` with body
 * `List-Unsubscribe=One-Click` and the token of a different member, about 10 s after a 2 s warm-up
 * (which uses tokens of its own). Baseline: `GET /healthz` of the same app, same load.
 * Checks: no non-2xx, every answered member is `unsubscribed` with the address erased.
 */

const CONNECTIONS = 20;
const SECONDS = 10;
const WARMUP_SECONDS = 2;

async function main(): Promise<void> {
  const members = argInt('members', 40_000);
  const dbName = argValue('db', 'mariadb');
  if (dbName !== 'mariadb' && dbName !== 'sqlite') throw new Error('--db must be mariadb or sqlite');
  const db = await createBenchDatabase(dbName === 'mariadb' ? 'mysql' : 'sqlite');
  const dataDir = tempDir('unsubscribe');
  let c: Container | undefined;
  let child: ChildProcess | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, { LOG_LEVEL: 'info', ROLE: 'api' });
    c = await openContainer(env);
    await bulkInsertActiveMembers(c.dataSource, members, 'unsub-medlem');
    const ids: number[] = (await c.dataSource.query('SELECT id FROM members ORDER BY id')).map(
      (r: { id: number }) => Number(r.id),
    );
    const tokens = ids.map((memberId) => c!.tokens.sign({ scope: 'unsubscribe', memberId }));
    log(`${members} members and tokens ready`);

    child = forkTs(path.join(__dirname, 'support', 'serve-app.ts'), env);
    const { port } = await nextMessage(child, (m) =>
      (m as { kind?: string }).kind === 'ready' ? (m as { port: number }) : undefined,
    );
    const url = `http://127.0.0.1:${port}`;

    const probe = await fetch(`${url}/u/x`, { method: 'POST' });
    if (probe.status === 404) throw new Error('POST /u/:token is not there yet (404)');

    let next = 0;
    let measuredFrom = 0;
    const oneClick = await measureLoad({
      url,
      method: 'POST',
      path: '/u/placeholder',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      setupRequest: (req) => {
        // Past the last token the run would repeat members (the idempotent path); checked below.
        const token = tokens[next++ % tokens.length];
        return { ...req, path: `/u/${token}`, body: 'List-Unsubscribe=One-Click' };
      },
      connections: CONNECTIONS,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
      // autocannon may prepare one request per connection that it never sends.
      maxRequests: () => tokens.length - next - CONNECTIONS,
      betweenRuns: async () => {
        if (next >= tokens.length) throw new Error(`the warm-up used every token; raise --members`);
        // The measured run starts at a fresh token; tokens the warm-up cut off mid-flight are skipped.
        const left = tokens.length - next;
        if (left < CONNECTIONS * 20)
          throw new Error(`only ${left} tokens left after the warm-up; raise --members`);
        measuredFrom = next;
      },
    });
    if (next > tokens.length)
      throw new Error(`ran out of tokens (${next} requests for ${tokens.length} members); raise --members`);

    const health = await measureLoad({
      url,
      path: '/healthz',
      connections: CONNECTIONS,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
    });

    const f = oneClick.figures;
    if (f.non2xx !== 0 || f.errors !== 0)
      throw new Error(`one-click answered ${f.non2xx} non-2xx and ${f.errors} errors`);
    // Every measured request was answered; the members of the measured run's tokens are exactly those unsubscribed.
    const [row] = await c.dataSource.query(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN email IS NULL THEN 1 ELSE 0 END) AS erased FROM members WHERE status = 'unsubscribed' AND id >= ? AND id <= ?`,
      [ids[measuredFrom], ids[Math.min(next, ids.length) - 1]],
    );
    if (Number(row.n) !== f.ok || Number(row.erased) !== f.ok) {
      throw new Error(`${row.n} members unsubscribed and ${row.erased} erased for ${f.ok} answered requests`);
    }
    log(`one-click: ${f.ok} members unsubscribed and erased in the measured run`);

    printResult({
      bench: 'unsubscribe',
      db: dbName,
      connections: CONNECTIONS,
      oneClick: { reqPerSec: f.reqPerSec, p50Ms: f.p50Ms, p99Ms: f.p99Ms, non2xx: f.non2xx, requests: f.ok },
      baseline: {
        route: 'GET /healthz',
        reqPerSec: health.figures.reqPerSec,
        p50Ms: health.figures.p50Ms,
        p99Ms: health.figures.p99Ms,
      },
      ratio: round(f.reqPerSec / health.figures.reqPerSec, 3),
    });
  } finally {
    if (child) await stopChild(child);
    await c?.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
