import crypto from 'node:crypto';
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'mysql2/promise';
import type { Container } from '../src/container';
import {
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
import { measureLoad } from './support/load';

/**
 * Sign-up throughput on MariaDB. The service's HTTP app (createApp, DOUBLE_OPT_IN=false so no
 * mail is involved, LOG_LEVEL=info as in production) runs in a child process on a fresh database;
 * autocannon, here, POSTs /v1/members with a unique address per request, 20 connections, about
 * 10 s after a 3 s warm-up. Then, same load, the baseline: bare express + mysql2, one INSERT into a
 * one-table database. Checks: no non-2xx from the service, and exactly one member row per 2xx.
 */

const CONNECTIONS = 20;
const SECONDS = 10;
const WARMUP_SECONDS = 3;

/** A sign-up body as the apps send it; `n` makes the address unique within the run. */
function signUpBody(run: string, n: number): string {
  return JSON.stringify({
    email: `signup.${run}.${n}@example.no`,
    firstName: 'Kari',
    lastName: 'Nordmann',
    phone: '+4791234567',
    source: 'osme-mobile',
    sourceVersion: '4.2.0',
    consent: { textVersion: 'kundeklubb-2024-05', givenAt: '2026-11-25T10:00:00Z' },
  });
}

async function load(
  url: string,
  headers: Record<string, string>,
  run: string,
  betweenRuns?: () => Promise<void>,
) {
  let n = 0;
  return measureLoad({
    url,
    method: 'POST',
    path: '/v1/members',
    headers: { 'content-type': 'application/json', ...headers },
    setupRequest: (req) => ({ ...req, body: signUpBody(run, n++) }),
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    seconds: SECONDS,
    betweenRuns,
  });
}

async function main(): Promise<void> {
  const run = crypto.randomBytes(3).toString('hex');
  const db = await createBenchDatabase('mysql');
  const bareDb = await createBenchDatabase('mysql');
  const dataDir = tempDir('signup');
  const children: ChildProcess[] = [];
  let c: Container | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, { LOG_LEVEL: 'info', ROLE: 'api' });
    c = await openContainer(env);
    const token = await c.clients.create('bench-app', ['members:write']);
    const countMembers = async () =>
      Number((await c!.dataSource.query('SELECT COUNT(*) AS n FROM members'))[0].n);

    const service = await startChildServer('serve-app.ts', env);
    children.push(service.child);
    let rowsBefore = 0;
    const s = await load(service.url, { authorization: `Bearer ${token}` }, `${run}s`, async () => {
      rowsBefore = await settled(countMembers);
    });
    // A fixed amount of requests, all answered: the new rows must be exactly the measured 2xx.
    const newRows = (await settled(countMembers)) - rowsBefore;
    await stopChild(service.child);
    log(
      `service: ${s.figures.ok} 2xx measured, ${newRows} new member rows (warm-up: ${s.warmupSent} requests)`,
    );
    if (newRows !== s.figures.ok) throw new Error(`${newRows} member rows for ${s.figures.ok} 2xx answers`);

    const bareEnv = { BARE_MYSQL_URL: bareDb.url };
    const bare = await startChildServer('bare-signup-server.ts', bareEnv);
    children.push(bare.child);
    const b = await load(bare.url, {}, `${run}b`);
    await stopChild(bare.child);

    if (s.figures.non2xx !== 0 || s.figures.errors !== 0) {
      throw new Error(`service answered ${s.figures.non2xx} non-2xx and ${s.figures.errors} errors`);
    }
    const bareRows = await (async () => {
      const conn = await createConnection({ uri: bareDb.url });
      try {
        const [rows] = await conn.query('SELECT COUNT(*) AS n FROM members');
        return Number((rows as Array<{ n: number }>)[0].n);
      } finally {
        await conn.end();
      }
    })();
    log(`baseline: ${b.figures.ok} 2xx measured, ${bareRows} rows (warm-up sent ${b.warmupSent})`);

    printResult({
      bench: 'signup',
      db: 'mariadb',
      connections: CONNECTIONS,
      service: {
        reqPerSec: s.figures.reqPerSec,
        p50Ms: s.figures.p50Ms,
        p99Ms: s.figures.p99Ms,
        non2xx: s.figures.non2xx,
        requests: s.figures.ok + s.figures.non2xx,
        memberRows: newRows,
      },
      baseline: {
        reqPerSec: b.figures.reqPerSec,
        p50Ms: b.figures.p50Ms,
        p99Ms: b.figures.p99Ms,
        non2xx: b.figures.non2xx,
      },
      ratio: round(s.figures.reqPerSec / b.figures.reqPerSec, 2),
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
