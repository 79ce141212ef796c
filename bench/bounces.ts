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
import { figuresOf } from './support/load';

/**
 * Bounce reports applied per second (issue 16), on MariaDB, `--reports` (default 10,000) each:
 * - smtp: RFC 3464 DSNs (Postfix's format) over 4 SMTP connections to the bounce listener, each to
 *   its newsletter's VERP address;
 * - mailgun: signed `failed`/permanent events posted to POST /webhooks/mailgun by autocannon over
 *   4 connections, each naming its newsletter by Message-ID.
 * Each report is a different member's hard bounce: the member becomes `bounced` with a consent
 * event, and the report is recorded once. The service (HTTP app and listener) runs in a child
 * process, as `kundeklubb serve`. A warm-up of 1,000 reports per path comes first.
 * Baseline, same run: the same writes per report (lock the member, look for the report, record it,
 * set the status, append the event, in one transaction) by a bare mysql2 loop on 4 connections.
 * The measured reports go in 3 rounds, smtp, mailgun and the baseline taking turns; medians reported.
 * Checks: every report answered as applied, and exactly that many members bounced.
 */

const CONNECTIONS = 4;
/** The measured reports are sent in this many rounds, each path and the baseline taking turns; medians are reported. */
const ROUNDS = 3;
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
    await bulkInsertActiveMembers(c.dataSource, reports, 'bare-medlem');
    const bareIds: number[] = (
      await c.dataSource.query(`SELECT id FROM members WHERE email LIKE 'bare-medlem%' ORDER BY id`)
    ).map((r: { id: number }) => Number(r.id));
    log(`${perPath} newsletters sent per path, ${reports} members for the bare loop`);

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

    // Rounds taking turns (smtp, mailgun, bare), so the machine's other load weighs on all three alike.
    const perRound = Math.floor(reports / ROUNDS);
    const rounds: Array<{ smtp: number; mailgun: number; mailgunP99: number; bare: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const from = WARMUP + r * perRound;
      const to = r === ROUNDS - 1 ? perPath : from + perRound;
      const smtpStart = performance.now();
      const applied = await sendAll(dsns.slice(from, to));
      const smtp = (to - from) / ((performance.now() - smtpStart) / 1000);
      if (applied !== to - from) throw new Error(`smtp: ${applied} of ${to - from} reports applied`);
      const mailgun = await post(bodies(targets.mailgun.slice(from, to)));
      const bareStart = performance.now();
      await bareWrites(db.url, bareIds.slice(from - WARMUP, to - WARMUP));
      const bare = (to - from) / ((performance.now() - bareStart) / 1000);
      rounds.push({
        smtp: round(smtp),
        mailgun: mailgun.reqPerSec,
        mailgunP99: mailgun.p99Ms,
        bare: round(bare),
      });
      log(`round ${r + 1}: smtp ${round(smtp)}/s, mailgun ${mailgun.reqPerSec}/s, bare ${round(bare)}/s`);
    }
    transport.close();
    await expectBounced(c, 'smtp', perPath);
    await expectBounced(c, 'mailgun', perPath);

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const bareRate = median(rounds.map((r) => r.bare));
    const common = { bench: 'bounces', db: 'mariadb', reports, connections: CONNECTIONS, rounds: ROUNDS };
    const baseline = { what: 'bare mysql2 loop, the same writes per report', reportsPerSec: bareRate };
    for (const path of ['smtp', 'mailgun'] as const) {
      const rate = median(rounds.map((r) => r[path]));
      printResult({
        ...common,
        path,
        reportsPerSec: rate,
        ...(path === 'mailgun' ? { p99Ms: median(rounds.map((r) => r.mailgunP99)) } : {}),
        perRound: rounds.map((r) => ({ [path]: r[path], bare: r.bare })),
        baseline,
        ratio: round(rate / bareRate, 3),
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

/** Per report: lock the member, look for the report, record it, set the status, append the event; one transaction. */
async function bareWrites(url: string, memberIds: number[]): Promise<{ seconds: number }> {
  const pool = createPool({ uri: url, connectionLimit: CONNECTIONS });
  try {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const conn = await pool.getConnection();
        try {
          while (next < memberIds.length) {
            const id = memberIds[next++];
            const now = new Date();
            await conn.beginTransaction();
            await conn.execute('SELECT id, email, status FROM members WHERE id = ? FOR UPDATE', [id]);
            await conn.execute('SELECT 1 FROM bounce_reports WHERE message_key = ? AND kind = ?', [
              `b${id}`,
              'hard',
            ]);
            await conn.execute(
              `INSERT IGNORE INTO bounce_reports (message_key, kind, source, campaign_id, delivery_id, member_id, sent_at, status_code, diagnostic, occurred_at)
               VALUES (?, 'hard', 'smtp', NULL, NULL, ?, ?, '5.1.1', 'mailbox unavailable <recipient>', ?)`,
              [`b${id}`, id, now, now],
            );
            await conn.execute(`UPDATE members SET status = 'bounced', updated_at = ? WHERE id = ?`, [
              now,
              id,
            ]);
            await conn.execute(
              `INSERT INTO consent_events (member_id, type, occurred_at, code) VALUES (?, 'bounced', ?, '5.1.1')`,
              [id, now],
            );
            await conn.commit();
          }
        } finally {
          conn.release();
        }
      }),
    );
    return { seconds: (performance.now() - start) / 1000 };
  } finally {
    await pool.end();
  }
}

runBench(main);
