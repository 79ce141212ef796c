import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import nodemailer from 'nodemailer';
import { createPool } from 'mysql2/promise';
import type { Container } from '../src/container';
import { deliveryTag } from '../src/mail/verp';
import { postfixDsn } from '../test/bounces/fixtures/reports';
import { mailgunFailed } from '../test/bounces/fixtures/mailgun';
import {
  argInt,
  benchCampaign,
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
import { AUTOCANNON_SAMPLE_MS, figuresOf } from './support/load';
import { loadAverage, median, spread, turnOrder } from './support/rounds';

/**
 * Bounce reports applied per second (issue 16), on MariaDB, `--reports` (default 10,000) each:
 * - smtp: RFC 3464 DSNs (Postfix's format) over 4 SMTP connections to the bounce listener, each to
 *   its newsletter's VERP address;
 * - mailgun: signed `failed`/permanent events posted to POST /webhooks/mailgun by autocannon over
 *   4 connections, each naming its newsletter by Message-ID.
 * Each report is a different member's hard bounce: the member becomes `bounced` with a consent
 * event, and the report is recorded once. The service (HTTP app and listener) runs in a child
 * process, as `kundeklubb serve`. A warm-up of 1,000 reports per path comes first.
 * Baseline, same run: a bare mysql2 loop on 4 connections writing, report by report, what the
 * service writes: find the newsletter (its ledger row), then in one transaction lock the member,
 * record the report once, set the status, append the consent event, and append the app-facing
 * `member.bounced` event (bump the event sequence reading it back in the same statement, insert
 * the event: CONTRACT §10, what EventLog.append does): 9 round trips. It parses nothing and speaks
 * no SMTP or HTTP. (The service applies reports arriving together in one transaction, with one
 * statement per table: the bare loop gives the plain way of doing the same writes.)
 * The measured reports go in `--rounds` (5) rounds, smtp, mailgun and the baseline taking turns
 * (the order reversed every other round); each side's median and spread, and the median of the
 * rounds' ratios (each round's sides ran back to back), are reported, with the load average.
 * Rates are the bench's own clock around each side's batch (autocannon's too, for mailgun).
 * Checks: every report answered as applied, and exactly that many members bounced.
 */

type Side = 'smtp' | 'mailgun' | 'bare';

const CONNECTIONS = 4;
const WARMUP = 1000;
const DOMAIN = 'bounce.bench.test';
const MAILGUN_KEY = 'key-bench-0123456789abcdef0123456789';

interface Target {
  deliveryId: number;
  campaignId: number;
  memberId: number;
  email: string;
}

async function main(): Promise<void> {
  const reports = argInt('reports', 10_000);
  const rounds = argInt('rounds', 5);
  const loadBefore = loadAverage();
  const perPath = reports + WARMUP;
  const db = await createBenchDatabase('mysql');
  const dataDir = tempDir('bounces');
  let c: Container | undefined;
  let child: ChildProcess | undefined;
  try {
    const env = serviceEnv(db.url, dataDir, {
      ROLE: 'api',
      LOG_LEVEL: 'warn',
      BOUNCE_DOMAIN: DOMAIN,
      MAILGUN_WEBHOOK_KEY: MAILGUN_KEY,
    });
    c = await openContainer(env);
    const targets = {
      smtp: await newsletterTo(c, 'smtp', perPath),
      mailgun: await newsletterTo(c, 'mailgun', perPath),
    };
    const bareTargets = await newsletterTo(c, 'bare', reports);
    log(`${perPath} newsletters sent per path, ${reports} for the bare loop`);

    child = forkTs(path.join(__dirname, 'support', 'serve-bounces.ts'), env);
    const smtpPort = (await nextMessage(child, (m) =>
      (m as { kind?: string }).kind === 'smtp' ? m : undefined,
    )) as {
      port: number;
    };
    const { port } = await nextMessage(child, (m) =>
      (m as { kind?: string }).kind === 'ready' ? (m as { port: number }) : undefined,
    );

    // ---- SMTP: DSNs to the listener ----
    const verp = c.verp!;
    const dsns = targets.smtp.map((t) => {
      const to = verp.returnPath(deliveryTag(t.deliveryId), t.email);
      return {
        to,
        raw: postfixDsn({ to, recipient: t.email, messageId: `<kk.c${t.campaignId}.m${t.memberId}@x>` }),
      };
    });
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtpPort.port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: CONNECTIONS,
      maxMessages: Infinity,
    });
    const sendAll = async (batch: typeof dsns) => {
      let next = 0;
      let applied = 0;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (next < batch.length) {
            const d = batch[next++];
            const info = await transport.sendMail({ envelope: { from: '', to: d.to }, raw: d.raw });
            if (/applied/.test(info.response)) applied++;
          }
        }),
      );
      return applied;
    };
    // ---- Mailgun: signed webhook posts ----
    const bodies = (batch: Target[]) =>
      batch.map((t) => {
        const timestamp = String(Math.floor(Date.now() / 1000));
        const token = crypto.randomBytes(25).toString('hex');
        const signature = crypto
          .createHmac('sha256', MAILGUN_KEY)
          .update(timestamp + token)
          .digest('hex');
        return JSON.stringify({
          signature: { timestamp, token, signature },
          'event-data': mailgunFailed({
            recipient: t.email,
            messageId: `<kk.c${t.campaignId}.m${t.memberId}@cosmenor.no>`,
            id: token.slice(0, 22),
          }),
        });
      });
    const post = async (batch: string[]) => {
      let next = 0;
      const f = figuresOf(
        await autocannon({
          url: `http://127.0.0.1:${port}`,
          connections: CONNECTIONS,
          pipelining: 1,
          timeout: 30,
          amount: batch.length,
          // autocannon ends an `amount` run at its next sample tick: 10 ms, not the default 1 s.
          sampleInt: AUTOCANNON_SAMPLE_MS,
          requests: [
            {
              method: 'POST',
              path: '/webhooks/mailgun',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => ({ ...req, body: batch[next++ % batch.length] }),
            },
          ],
        }),
      );
      if (f.non2xx !== 0 || f.errors !== 0)
        throw new Error(`mailgun: ${f.non2xx} non-2xx and ${f.errors} errors`);
      return f;
    };

    await sendAll(dsns.slice(0, WARMUP));
    await post(bodies(targets.mailgun.slice(0, WARMUP)));

    // Rounds taking turns, the order reversed every other round, so the machine's other load
    // weighs on all three alike; each round's ratios compare sides measured side by side in time.
    const perRound = Math.floor(reports / rounds);
    const rates: Record<Side, number[]> = { smtp: [], mailgun: [], bare: [] };
    const mailgunP99: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const from = WARMUP + r * perRound;
      const to = r === rounds - 1 ? perPath : from + perRound;
      for (const side of turnOrder<Side>(['smtp', 'mailgun', 'bare'], r)) {
        const signed = side === 'mailgun' ? bodies(targets.mailgun.slice(from, to)) : [];
        const started = performance.now();
        if (side === 'smtp') {
          const applied = await sendAll(dsns.slice(from, to));
          if (applied !== to - from) throw new Error(`smtp: ${applied} of ${to - from} reports applied`);
        } else if (side === 'mailgun') {
          mailgunP99.push((await post(signed)).p99Ms);
        } else {
          await bareWrites(db.url, bareTargets.slice(from - WARMUP, to - WARMUP));
        }
        rates[side].push(round((to - from) / ((performance.now() - started) / 1000)));
      }
      log(`round ${r + 1}: smtp ${rates.smtp[r]}/s, mailgun ${rates.mailgun[r]}/s, bare ${rates.bare[r]}/s`);
    }
    transport.close();
    await expectBounced(c, 'smtp', perPath);
    await expectBounced(c, 'mailgun', perPath);
    await expectBounced(c, 'bare', reports);

    const bare = spread(rates.bare);
    const common = { bench: 'bounces', db: 'mariadb', reports, connections: CONNECTIONS, rounds };
    const baseline = {
      what: 'bare mysql2 loop, one transaction per report with the same writes (ledger row, member lock, report, status, consent event, member.bounced event): 9 round trips',
      reportsPerSec: bare.median,
      min: bare.min,
      max: bare.max,
    };
    for (const path of ['smtp', 'mailgun'] as const) {
      const rate = spread(rates[path]);
      const ratios = rates[path].map((x, r) => x / rates.bare[r]);
      printResult({
        ...common,
        path,
        reportsPerSec: rate.median,
        min: rate.min,
        max: rate.max,
        ...(path === 'mailgun' ? { p99Ms: median(mailgunP99) } : {}),
        perRound: rates[path].map((x, r) => ({ [path]: x, bare: rates.bare[r] })),
        baseline,
        // The median of the rounds' ratios: each round's sides ran back to back.
        ratio: round(median(ratios), 3),
        goal: { reportsPerSec: 500, ratio: 0.5, met: rate.median >= 500 && median(ratios) >= 0.5 },
        loadAverage: { before: loadBefore, after: loadAverage() },
      });
    }
  } finally {
    if (child) await stopChild(child);
    await c?.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `n` active members of partner `group` and a newsletter sent to them (ledger rows `sent`, campaign `sent`). */
async function newsletterTo(c: Container, group: string, n: number): Promise<Target[]> {
  await bulkInsertActiveMembers(c.dataSource, n, `${group}-medlem`);
  await c.dataSource.query(`UPDATE members SET partner_id = ? WHERE email LIKE ?`, [
    group,
    `${group}-medlem%`,
  ]);
  const campaign = await c.campaigns.create({ ...benchCampaign(group), audience: { partnerIds: [group] } });
  await c.sending.send(campaign.id);
  await c.dataSource.query(
    `UPDATE deliveries SET status = 'sent', sent_at = ?, attempts = 1 WHERE campaign_id = ?`,
    [new Date(), campaign.id],
  );
  await c.sending.housekeeping();
  const rows: Array<{ id: number; member_id: number; email: string }> = await c.dataSource.query(
    `SELECT d.id, d.member_id, m.email FROM deliveries d JOIN members m ON m.id = d.member_id WHERE d.campaign_id = ? ORDER BY d.id`,
    [campaign.id],
  );
  if (rows.length !== n) throw new Error(`${group}: ${rows.length} deliveries for ${n} members`);
  return rows.map((r) => ({
    deliveryId: Number(r.id),
    campaignId: campaign.id,
    memberId: Number(r.member_id),
    email: r.email,
  }));
}

async function expectBounced(c: Container, group: string, n: number): Promise<void> {
  const [row] = await c.dataSource.query(
    `SELECT COUNT(*) AS n FROM members WHERE partner_id = ? AND status = 'bounced'`,
    [group],
  );
  if (Number(row.n) !== n) throw new Error(`${group}: ${row.n} members bounced, expected ${n}`);
}

/**
 * Per report, what the service does on the database for a hard bounce (BouncesService.apply):
 * find the ledger row, then in one transaction lock the member, look for the report, record it,
 * set the status, append the consent event and the `member.bounced` event (EventLog.append).
 */
async function bareWrites(url: string, targets: Target[]): Promise<void> {
  const pool = createPool({ uri: url, connectionLimit: CONNECTIONS });
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const conn = await pool.getConnection();
        try {
          while (next < targets.length) {
            const t = targets[next++];
            const now = new Date();
            await conn.execute(
              'SELECT id, campaign_id, member_id, status, sent_at FROM deliveries WHERE id = ?',
              [t.deliveryId],
            );
            await conn.beginTransaction();
            await conn.execute('SELECT * FROM members WHERE id = ? FOR UPDATE', [t.memberId]);
            const [rec] = await conn.execute(
              `INSERT IGNORE INTO bounce_reports (message_key, kind, source, campaign_id, delivery_id, member_id, sent_at, status_code, diagnostic, occurred_at)
               VALUES (?, 'hard', 'smtp', ?, ?, ?, ?, '5.1.1', 'mailbox unavailable <recipient>', ?)`,
              [`d${t.deliveryId}`, t.campaignId, t.deliveryId, t.memberId, now, now],
            );
            if ((rec as { affectedRows: number }).affectedRows !== 1)
              throw new Error(`bare: report for delivery ${t.deliveryId} already there`);
            await conn.execute(`UPDATE members SET status = 'bounced', updated_at = ? WHERE id = ?`, [
              now,
              t.memberId,
            ]);
            await conn.execute(
              `INSERT INTO consent_events (member_id, type, occurred_at, code) VALUES (?, 'bounced', ?, '5.1.1')`,
              [t.memberId, now],
            );
            const [seq] = await conn.execute(
              'UPDATE event_sequence SET value = LAST_INSERT_ID(value + 1) WHERE id = 1',
            );
            await conn.execute(
              `INSERT INTO member_events (sequence, type, member_id, external_id, source, status, channel, occurred_at)
               VALUES (?, 'member.bounced', ?, NULL, 'osme-mobile', 'bounced', NULL, ?)`,
              [(seq as { insertId: number }).insertId, t.memberId, now],
            );
            await conn.commit();
          }
        } finally {
          conn.release();
        }
      }),
    );
  } finally {
    await pool.end();
  }
}

runBench(main);
