import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { DataSource } from 'typeorm';
import type { Container } from '../src/container';
import {
  argInt,
  benchCampaign,
  bulkInsertActiveMembers,
  createBenchDatabase,
  log,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  startChildServer,
  stopChild,
  tempDir,
} from './support/bench-env';
import { measureLoad, type LoadFigures } from './support/load';
import { loadAverage, loadSummary, median, turnOrder } from './support/rounds';

/**
 * One-click unsubscribe (RFC 8058) under load, on MariaDB. Two sets of `--members` active members
 * (default 60,000 each) on one fresh database, each member with what a member has after a few
 * campaigns: sign-up and confirmation consent events, the confirmation's mail quota, three sent
 * newsletters in the delivery ledger, an unused privacy-link token, the app events
 * `member.created` and `member.confirmed` carrying the app's externalId, and that externalId on
 * the profile. So leaving costs what it really costs: every row the service touches is there,
 * in tables of a realistic size. The service's HTTP app runs in a child process; autocannon,
 * 20 connections, each request `POST /u/:token` with body `List-Unsubscribe=One-Click` and the
 * signed token of a different member of the first set. Baseline, same run, same load, same
 * database, members of the second set: a bare express + mysql2 handler verifying the same token
 * (jsonwebtoken, the same key) and doing the same statements in one transaction
 * (bench/baselines/unsubscribe-same-work.ts). The two take turns for `--rounds` rounds (5; a 2 s
 * warm-up, then about `--seconds` s measured each), the order reversed every other round; each
 * one's median and spread are reported. Checks, every round and side: no non-2xx and no errors;
 * every answered member `unsubscribed` with the address erased, a withdrawal event, no token left.
 * Goal (issue 20, figure 3): ≥ 0.8× the baseline, p99 < 25 ms.
 */

const CONNECTIONS = 20;
const WARMUP_SECONDS = 2;
const CAMPAIGNS = 3;

type Side = 'service' | 'same-work';

/**
 * A few campaigns' worth of history for every member present: consent events, quota, ledger rows,
 * a token, app events; the event counter moved past them. Set-based, so 100,000 members take seconds.
 */
async function giveHistory(c: Container): Promise<void> {
  const ds = c.dataSource;
  const t = (daysAgo: number) =>
    new Date(Date.now() - daysAgo * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
  const text = c.consentTexts.get('kundeklubb-2024-05')!;
  await ds.query(`UPDATE members SET external_id = CONCAT('osme-', id), source_version = '4.2.0'`);
  for (const [type, channel] of [
    ['signup', null],
    ['confirmation', 'email-link'],
  ] as const) {
    await ds.query(
      `INSERT INTO consent_events (member_id, type, occurred_at, source, source_version, text_version, text_sha256, channel, given_at)
       SELECT id, ?, ?, source, '4.2.0', ?, ?, ?, ? FROM members ORDER BY id`,
      [type, t(120), text.version, text.sha256, channel, t(120)],
    );
  }
  await ds.query(
    `INSERT INTO mail_quota (member_id, kind, total, window_count, window_start) SELECT id, 'confirmation', 1, 1, ? FROM members ORDER BY id`,
    [t(120)],
  );
  for (let i = 0; i < CAMPAIGNS; i++) {
    const { id } = await c.campaigns.create(benchCampaign(`Nyhetsbrev ${i + 1}`));
    const sentAt = t(90 - 30 * i);
    await ds.query(`UPDATE campaigns SET status = 'sent', started_at = ?, finished_at = ? WHERE id = ?`, [
      sentAt,
      sentAt,
      id,
    ]);
    await ds.query(
      `INSERT INTO deliveries (campaign_id, member_id, status, attempts, next_attempt_at, sent_at, updated_at)
       SELECT ?, id, 'sent', 1, ?, ?, ? FROM members ORDER BY id`,
      [id, sentAt, sentAt, sentAt],
    );
  }
  await ds.query(
    `INSERT INTO member_tokens (member_id, purpose, token_hash, created_at, expires_at)
     SELECT id, 'privacy', SHA2(CONCAT('bench-privacy-', id), 256), ?, ? FROM members ORDER BY id`,
    [t(0.1), t(-0.9)],
  );
  for (const [offset, type, status] of [
    [1, 'member.created', 'pending'],
    [0, 'member.confirmed', 'active'],
  ] as const) {
    await ds.query(
      `INSERT INTO member_events (sequence, type, member_id, external_id, source, status, channel, occurred_at)
       SELECT id * 2 - ?, ?, id, external_id, source, ?, NULL, ? FROM members ORDER BY id`,
      [offset, type, status, t(120)],
    );
  }
  await ds.query('UPDATE event_sequence SET value = (SELECT MAX(sequence) FROM member_events) WHERE id = 1');
}

interface SideState {
  url: string;
  ids: number[];
  tokens: string[];
  next: number;
  rounds: LoadFigures[];
}

async function measureSide(ds: DataSource, side: Side, s: SideState, seconds: number): Promise<LoadFigures> {
  let measuredFrom = 0;
  const { figures: f } = await measureLoad({
    url: s.url,
    method: 'POST',
    path: '/u/placeholder',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    setupRequest: (req) => {
      // Past the last token the run would repeat members (the idempotent path); checked below.
      const token = s.tokens[s.next++ % s.tokens.length];
      return { ...req, path: `/u/${token}`, body: 'List-Unsubscribe=One-Click' };
    },
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    seconds,
    // autocannon may prepare one request per connection that it never sends.
    maxRequests: () => s.tokens.length - s.next - CONNECTIONS,
    betweenRuns: async () => {
      // The measured run starts at a fresh token; tokens the warm-up cut off mid-flight are skipped.
      const left = s.tokens.length - s.next;
      if (left < CONNECTIONS * 20)
        throw new Error(`${side}: only ${left} tokens left after the warm-up; raise --members`);
      measuredFrom = s.next;
    },
  });
  if (s.next > s.tokens.length)
    throw new Error(
      `${side}: ran out of tokens (${s.next} requests for ${s.tokens.length} members); raise --members`,
    );
  if (f.non2xx !== 0 || f.errors !== 0)
    throw new Error(`${side}: ${f.non2xx} non-2xx answers and ${f.errors} errors`);
  // Every measured request was answered: the members of the measured tokens are exactly those that left.
  const from = s.ids[measuredFrom];
  const to = s.ids[Math.min(s.next, s.ids.length) - 1];
  const [row] = await ds.query(
    `SELECT COUNT(*) AS n, SUM(CASE WHEN email IS NULL AND external_id IS NULL THEN 1 ELSE 0 END) AS erased,
            (SELECT COUNT(*) FROM consent_events WHERE type = 'withdrawal' AND member_id BETWEEN ? AND ?) AS withdrawals,
            (SELECT COUNT(*) FROM member_tokens t JOIN members m ON m.id = t.member_id
              WHERE m.status = 'unsubscribed' AND m.id BETWEEN ? AND ?) AS tokens
     FROM members WHERE status = 'unsubscribed' AND id BETWEEN ? AND ?`,
    [from, to, from, to, from, to],
  );
  if (
    Number(row.n) !== f.ok ||
    Number(row.erased) !== f.ok ||
    Number(row.withdrawals) !== f.ok ||
    Number(row.tokens) !== 0
  ) {
    throw new Error(
      `${side}: ${row.n} members unsubscribed, ${row.erased} erased, ${row.withdrawals} withdrawal events and ` +
        `${row.tokens} tokens left for ${f.ok} answered requests`,
    );
  }
  s.rounds.push(f);
  return f;
}

async function main(): Promise<void> {
  const members = argInt('members', 60_000);
  const rounds = argInt('rounds', 5);
  const seconds = argInt('seconds', 6);
  const loadBefore = loadAverage();
  const db = await createBenchDatabase('mysql');
  const dataDir = tempDir('unsubscribe');
  const children: ChildProcess[] = [];
  let c: Container | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, { LOG_LEVEL: 'info', ROLE: 'api' });
    c = await openContainer(env);
    const t0 = Date.now();
    await bulkInsertActiveMembers(c.dataSource, members, 'avmeld-tjeneste-');
    await bulkInsertActiveMembers(c.dataSource, members, 'avmeld-grunnlinje-');
    await giveHistory(c);
    const idsOf = async (prefix: string): Promise<number[]> =>
      (
        await c!.dataSource.query('SELECT id FROM members WHERE email LIKE ? ORDER BY id', [`${prefix}%`])
      ).map((r: { id: number }) => Number(r.id));
    const newSide = (url: string, ids: number[]): SideState => ({
      url,
      ids,
      tokens: ids.map((memberId) => c!.tokens.sign({ scope: 'unsubscribe', memberId })),
      next: 0,
      rounds: [],
    });
    const serviceIds = await idsOf('avmeld-tjeneste-');
    const baselineIds = await idsOf('avmeld-grunnlinje-');
    log(
      `2 × ${members} members with their history and tokens ready in ${round((Date.now() - t0) / 1000, 1)} s`,
    );

    const service = await startChildServer('serve-app.ts', env);
    const sameWork = await startChildServer('../baselines/unsubscribe-same-work.ts', {
      BARE_MYSQL_URL: db.url,
      TOKEN_KEYS: env.TOKEN_KEYS,
      SUPPRESSION_KEY: c.config.suppressionKey,
    });
    children.push(service.child, sameWork.child);
    const sides: Record<Side, SideState> = {
      service: newSide(service.url, serviceIds),
      'same-work': newSide(sameWork.url, baselineIds),
    };
    for (const side of ['service', 'same-work'] as const) {
      const probe = await fetch(`${sides[side].url}/u/x`, { method: 'POST' });
      if (probe.status !== 400) throw new Error(`${side}: POST /u/x answered ${probe.status}, expected 400`);
    }

    for (let r = 0; r < rounds; r++) {
      for (const side of turnOrder<Side>(['service', 'same-work'], r)) {
        await measureSide(c.dataSource, side, sides[side], seconds);
      }
      const line = (side: Side) => {
        const f = sides[side].rounds[r];
        return `${side} ${f.reqPerSec} req/s (p99 ${f.p99Ms} ms)`;
      };
      log(`round ${r + 1}: ${line('service')}, ${line('same-work')}`);
    }

    const serviceSummary = loadSummary(sides.service.rounds);
    // Rounds pair the sides minutes apart at most: the ratio is the median of the rounds' ratios.
    const ratio = round(
      median(sides.service.rounds.map((f, i) => f.reqPerSec / sides['same-work'].rounds[i].reqPerSec)),
      2,
    );
    printResult({
      bench: 'unsubscribe',
      db: 'mariadb',
      connections: CONNECTIONS,
      membersPerSide: members,
      history: {
        consentEvents: 2,
        deliveries: CAMPAIGNS,
        memberTokens: 1,
        memberEvents: 2,
        mailQuota: 1,
        externalId: true,
      },
      rounds,
      service: serviceSummary,
      baseline: {
        what: 'bare express + mysql2: the same token check (jsonwebtoken, same key), the same statements in one transaction',
        ...loadSummary(sides['same-work'].rounds),
      },
      ratio,
      goal: { ratio: 0.8, p99Ms: 25, met: ratio >= 0.8 && serviceSummary.p99Ms < 25 },
      loadAverage: { before: loadBefore, after: loadAverage() },
    });
  } finally {
    for (const child of children) await stopChild(child);
    await c?.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
