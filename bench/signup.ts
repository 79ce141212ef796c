import crypto from 'node:crypto';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import type { Container } from '../src/container';
import {
  argInt,
  createBenchDatabase,
  log,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  settled,
  sleep,
  spawnKundeklubb,
  startChildServer,
  stopChild,
  tempDir,
} from './support/bench-env';
import { measureLoad, type LoadFigures } from './support/load';
import { loadAverage, loadSummary, median, turnOrder } from './support/rounds';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink';

/**
 * Sign-up throughput on MariaDB, with the default DOUBLE_OPT_IN=true: each sign-up writes a
 * `pending` member, its consent event, the mail quota, a mail-queue row and the app event in one
 * transaction, and the confirmation mail goes out right after the answer (to an SMTP sink in its
 * own process). The service runs as deployed: its HTTP app (createApp, ROLE=api, LOG_LEVEL=info
 * as in production) in a child process, and a `kundeklubb worker` process whose mail-queue job
 * sends what the api's after-commit kick leaves behind; autocannon, here, POSTs /v1/members with a unique address per request, 20
 * connections. Two baselines, each a child process on the same load:
 * - same work (the headline, issue 20 figure 2): bare express + mysql2 doing the same statements
 *   in one transaction on a database migrated like the service's, and sending the same
 *   confirmation mail after the answer (bench/baselines/signup-same-work.ts);
 * - a single INSERT into a one-table database (bench/support/bare-signup-server.ts), the first
 *   round's baseline, kept as a second figure.
 * The three take turns for `--rounds` rounds (5; a 2 s warm-up, then about `--seconds` s measured
 * each), the order reversed every other round; each one's median and spread are reported.
 * Checks, every round and side: no non-2xx and no errors; exactly one member row per measured 2xx
 * (and, on the two double opt-in sides, one consent event, one app event and, once the mail
 * queue is empty, one confirmation mail per member created in the round).
 * Goal: ≥ 0.8× the same-work baseline, p99 < 30 ms.
 */

const CONNECTIONS = 20;
const WARMUP_SECONDS = 2;
/** How long a side's confirmation mails may take to go out after its last answer. */
const DRAIN_TIMEOUT_MS = 120_000;

type Side = 'service' | 'same-work' | 'single-insert';

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

interface Counts {
  members: number;
  consentEvents: number;
  memberEvents: number;
  outbox: number;
}

/** Rows of a database with the service's schema. */
async function countRows(ds: DataSource): Promise<Counts> {
  const [r] = await ds.query(
    `SELECT (SELECT COUNT(*) FROM members) AS members, (SELECT COUNT(*) FROM consent_events) AS consentEvents,
            (SELECT COUNT(*) FROM member_events) AS memberEvents, (SELECT COUNT(*) FROM mail_outbox) AS outbox`,
  );
  return {
    members: Number(r.members),
    consentEvents: Number(r.consentEvents),
    memberEvents: Number(r.memberEvents),
    outbox: Number(r.outbox),
  };
}

/** Members of the single-INSERT baseline's one table. */
async function countSingleTable(url: string): Promise<number> {
  const conn = await createConnection({ uri: url });
  try {
    const [rows] = await conn.query('SELECT COUNT(*) AS n FROM members');
    return Number((rows as Array<{ n: number }>)[0].n);
  } finally {
    await conn.end();
  }
}

/** Waits until the mail queue is empty; seconds it took. */
async function drainMail(ds: DataSource, what: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    const [r] = await ds.query('SELECT COUNT(*) AS n FROM mail_outbox');
    if (Number(r.n) === 0) return (performance.now() - start) / 1000;
    if (performance.now() - start > DRAIN_TIMEOUT_MS)
      throw new Error(`${what}: ${r.n} confirmation mails still queued after ${DRAIN_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

/** Until a worker process has written its first heartbeat. */
async function waitForWorker(ds: DataSource, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Number((await ds.query('SELECT COUNT(*) AS n FROM workers'))[0].n) === 0) {
    if (Date.now() > deadline) throw new Error(`no worker came up within ${timeoutMs} ms`);
    await sleep(100);
  }
}

interface SideState {
  url: string;
  headers: Record<string, string>;
  /** Member rows now. */
  members: () => Promise<number>;
  /** The service's schema (the double opt-in sides): events and mail are checked too. */
  ds?: DataSource;
  rounds: LoadFigures[];
  drainSeconds: number[];
  memberRows: number;
  mails: number;
}

async function measureSide(
  side: Side,
  s: SideState,
  run: string,
  r: number,
  seconds: number,
  sink: SmtpSink,
) {
  let n = 0;
  let measuredFrom = 0;
  const before = s.ds ? await countRows(s.ds) : undefined;
  await sink.reset();
  const { figures } = await measureLoad({
    url: s.url,
    method: 'POST',
    path: '/v1/members',
    headers: { 'content-type': 'application/json', ...s.headers },
    setupRequest: (req) => ({ ...req, body: signUpBody(`${run}.${side}.${r}`, n++) }),
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    seconds,
    betweenRuns: async () => {
      measuredFrom = await settled(s.members);
    },
  });
  const newRows = (await settled(s.members)) - measuredFrom;
  if (figures.non2xx !== 0 || figures.errors !== 0)
    throw new Error(`${side}: ${figures.non2xx} non-2xx answers and ${figures.errors} errors`);
  // A fixed amount of requests, all answered: the new rows must be exactly the measured 2xx.
  if (newRows !== figures.ok)
    throw new Error(`${side}: ${newRows} member rows for ${figures.ok} 2xx answers`);
  s.memberRows += newRows;
  if (s.ds && before) {
    s.drainSeconds.push(await drainMail(s.ds, side));
    const after = await countRows(s.ds);
    const created = after.members - before.members;
    const mail = await sink.stats();
    if (
      after.consentEvents - before.consentEvents !== created ||
      after.memberEvents - before.memberEvents !== created ||
      mail.messages !== created ||
      mail.distinct !== created
    ) {
      throw new Error(
        `${side}: ${created} members created in round ${r + 1}, but ${after.consentEvents - before.consentEvents} consent events, ` +
          `${after.memberEvents - before.memberEvents} app events and ${mail.messages} confirmation mails (${mail.distinct} addresses)`,
      );
    }
    s.mails += mail.messages;
  }
  s.rounds.push(figures);
  return figures;
}

async function main(): Promise<void> {
  const rounds = argInt('rounds', 5);
  const seconds = argInt('seconds', 6);
  const loadBefore = loadAverage();
  const run = crypto.randomBytes(3).toString('hex');
  const sink = await startSmtpSink();
  const db = await createBenchDatabase('mysql');
  const sameDb = await createBenchDatabase('mysql');
  const singleDb = await createBenchDatabase('mysql');
  const dataDir = tempDir('signup');
  const children: ChildProcess[] = [];
  let c: Container | undefined;
  let same: Container | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, {
      LOG_LEVEL: 'info',
      ROLE: 'api',
      DOUBLE_OPT_IN: 'true',
      SMTP_URL: sink.url,
    });
    c = await openContainer(env);
    const token = await c.clients.create('bench-app', ['members:write']);
    // The same-work baseline's database: the service's schema, migrated by the service.
    same = await openContainer(serviceEnv(sameDb.url, dataDir));
    const text = c.consentTexts.get('kundeklubb-2024-05');
    if (!text) throw new Error('consent text kundeklubb-2024-05 is gone; update the bench body');

    const service = await startChildServer('serve-app.ts', env);
    children.push(service.child);
    // As deployed (compose.yaml: one api, workers): the api's after-commit kick sends what it can,
    // a worker's mail-queue job (every second) sends the confirmation mails the kicks left behind.
    children.push(spawnKundeklubb('worker', { ...env, ROLE: 'worker' }));
    await waitForWorker(c.dataSource);
    const sameWork = await startChildServer('../baselines/signup-same-work.ts', {
      BARE_MYSQL_URL: sameDb.url,
      SMTP_URL: sink.url,
      SMTP_POOL_SIZE: String(c.config.smtpPoolSize),
      MAIL_FROM: c.config.mailFrom,
      PUBLIC_URL: c.config.publicUrl,
      PRIVACY_CONTACT: c.config.privacyContact,
      SUPPRESSION_KEY: c.config.suppressionKey,
      TEXT_VERSION: text.version,
      TEXT_SHA256: text.sha256,
    });
    const single = await startChildServer('bare-signup-server.ts', { BARE_MYSQL_URL: singleDb.url });
    children.push(sameWork.child, single.child);

    const newState = (
      url: string,
      members: () => Promise<number>,
      ds?: DataSource,
      headers = {},
    ): SideState => ({
      url,
      headers,
      members,
      ds,
      rounds: [],
      drainSeconds: [],
      memberRows: 0,
      mails: 0,
    });
    const serviceDs = c.dataSource;
    const sameDs = same.dataSource;
    const sides: Record<Side, SideState> = {
      service: newState(service.url, async () => (await countRows(serviceDs)).members, serviceDs, {
        authorization: `Bearer ${token}`,
      }),
      'same-work': newState(sameWork.url, async () => (await countRows(sameDs)).members, sameDs),
      'single-insert': newState(single.url, () => countSingleTable(singleDb.url)),
    };

    for (let r = 0; r < rounds; r++) {
      for (const side of turnOrder<Side>(['service', 'same-work', 'single-insert'], r)) {
        await measureSide(side, sides[side], run, r, seconds, sink);
      }
      const line = (side: Side) => {
        const f = sides[side].rounds[r];
        return `${side} ${f.reqPerSec} req/s (p99 ${f.p99Ms} ms)`;
      };
      log(`round ${r + 1}: ${line('service')}, ${line('same-work')}, ${line('single-insert')}`);
    }

    const summary = (side: Side) => {
      const s = sides[side];
      return {
        ...loadSummary(s.rounds),
        memberRows: s.memberRows,
        ...(s.ds
          ? { confirmationMails: s.mails, mailDrainSecondsMax: round(Math.max(...s.drainSeconds), 1) }
          : {}),
      };
    };
    const serviceSummary = summary('service');
    const sameSummary = summary('same-work');
    const singleSummary = summary('single-insert');
    // Rounds pair the sides minutes apart at most: the ratio is the median of the rounds' ratios.
    const ratioTo = (side: Side) =>
      round(median(sides.service.rounds.map((f, i) => f.reqPerSec / sides[side].rounds[i].reqPerSec)), 2);
    const ratio = ratioTo('same-work');
    const loadAfter = loadAverage();
    printResult({
      bench: 'signup',
      db: 'mariadb',
      connections: CONNECTIONS,
      doubleOptIn: true,
      rounds,
      service: serviceSummary,
      baseline: {
        what: 'bare express + mysql2, the same statements in one transaction, the same confirmation mail after the answer',
        ...sameSummary,
      },
      ratio,
      goal: { ratio: 0.8, p99Ms: 30, met: ratio >= 0.8 && serviceSummary.p99Ms < 30 },
      loadAverage: { before: loadBefore, after: loadAfter },
    });
    printResult({
      bench: 'signup-single-insert',
      db: 'mariadb',
      connections: CONNECTIONS,
      doubleOptIn: true,
      rounds,
      service: {
        reqPerSec: serviceSummary.reqPerSec,
        p50Ms: serviceSummary.p50Ms,
        p99Ms: serviceSummary.p99Ms,
      },
      baseline: { what: 'bare express + mysql2, one INSERT into a one-table database', ...singleSummary },
      ratio: ratioTo('single-insert'),
      loadAverage: { before: loadBefore, after: loadAfter },
    });
  } finally {
    for (const child of children) await stopChild(child);
    await c?.close();
    await same?.close();
    await db.drop();
    await sameDb.drop();
    await singleDb.drop();
    await sink.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
