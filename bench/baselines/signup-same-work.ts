import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import { createPool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import nodemailer from 'nodemailer';
import { searchTokens } from '../../src/db/search-tokens';
import { serveAsChild } from '../support/child-server';

/**
 * Child process: the same-work baseline of a sign-up with double opt-in (issue 20, figure 2).
 * Bare express + mysql2 (pool of 10, as the service's) on a database migrated with the service's
 * own migrations (same tables, same indexes), doing what the service does for a new address, in
 * one transaction, statement for statement: look up the address, the suppression check (HMAC of
 * the address), insert the member (`pending`) and its search tokens, insert the signup consent event, look for a waiting
 * confirmation, take the mail quota (INSERT IGNORE + conditional UPDATE), insert the mail-queue
 * row, bump the event sequence (reading it back in the same statement) and insert the `member.created` event; answer 201 with the member.
 * After the answer, as the service's mail queue does: a confirmation token row, the confirmation
 * mail (templates/mail/confirmation.*) through a nodemailer pool of SMTP_POOL_SIZE to SMTP_URL,
 * and the mail-queue row deleted. No validation beyond lower-casing, no API-client check, no
 * logging, no retries.
 *
 * Environment: BARE_MYSQL_URL, SMTP_URL, SMTP_POOL_SIZE, MAIL_FROM, PUBLIC_URL, PRIVACY_CONTACT,
 * SUPPRESSION_KEY, TEXT_VERSION and TEXT_SHA256 (the consent text the bench's bodies name).
 */

const CONFIRM_TTL_MS = 72 * 3600 * 1000;
const QUOTA = { windowMs: 24 * 3600 * 1000, perWindow: 1, total: 3 };

interface SignUpBody {
  email: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  source: string;
  sourceVersion?: string;
  externalId?: string;
  partnerId?: string;
  consent: { textVersion: string; givenAt?: string };
}

const dbTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  const pool = createPool({ uri: env.BARE_MYSQL_URL, connectionLimit: 10 });
  const transport = nodemailer.createTransport({
    url: env.SMTP_URL,
    pool: true,
    maxConnections: Number(env.SMTP_POOL_SIZE ?? 5),
    maxMessages: Infinity,
  });
  const templates = path.join(__dirname, '..', '..', 'templates', 'mail');
  const htmlTemplate = fs.readFileSync(path.join(templates, 'confirmation.html'), 'utf8');
  const textTemplate = fs.readFileSync(path.join(templates, 'confirmation.txt'), 'utf8');
  const fill = (t: string, values: Record<string, string>) =>
    t.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => values[key]);

  async function inTransaction<T>(work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      try {
        const result = await work(conn);
        await conn.commit();
        return result;
      } catch (err) {
        await conn.rollback();
        throw err;
      }
    } finally {
      conn.release();
    }
  }

  async function signUp(b: SignUpBody) {
    const email = b.email.trim().toLowerCase();
    const now = dbTime(new Date());
    const givenAt = b.consent.givenAt ? dbTime(new Date(b.consent.givenAt)) : now;
    return inTransaction(async (conn) => {
      const [existing] = await conn.execute<RowDataPacket[]>(
        'SELECT * FROM members WHERE email = ? LIMIT 1',
        [email],
      );
      const consentEvent = (memberId: number) =>
        conn.execute(
          `INSERT INTO consent_events (member_id, type, occurred_at, source, source_version, text_version, text_sha256, channel, given_at, code)
           VALUES (?, 'signup', ?, ?, ?, ?, ?, NULL, ?, NULL)`,
          [memberId, now, b.source, b.sourceVersion ?? null, env.TEXT_VERSION, env.TEXT_SHA256, givenAt],
        );
      if (existing.length > 0) {
        await consentEvent(Number(existing[0].id));
        return { created: false, id: Number(existing[0].id), email, outboxId: null };
      }
      const hmac = crypto.createHmac('sha256', env.SUPPRESSION_KEY).update(email).digest('hex');
      await conn.execute('SELECT 1 AS x FROM suppressions WHERE email_hmac = ?', [hmac]);
      const [member] = await conn.execute<ResultSetHeader>(
        `INSERT INTO members (email, first_name, last_name, phone, source, source_version, external_id, partner_id,
           status, status_before_restriction, created_at, updated_at, confirmed_at, left_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?, ?, NULL, NULL)`,
        [
          email,
          b.firstName ?? null,
          b.lastName ?? null,
          b.phone?.replace(/[ ()-]/g, '') ?? null,
          b.source,
          b.sourceVersion ?? null,
          b.externalId ?? null,
          b.partnerId ?? null,
          now,
          now,
        ],
      );
      const id = member.insertId;
      const tokens = searchTokens({ email, firstName: b.firstName ?? null, lastName: b.lastName ?? null });
      await conn.execute(
        `INSERT INTO member_search_tokens (token, member_id) VALUES ${tokens.map(() => '(?, ?)').join(', ')}`,
        tokens.flatMap((token) => [token, id]),
      );
      await consentEvent(id);
      await conn.execute(`SELECT 1 AS x FROM mail_outbox WHERE member_id = ? AND kind = 'confirmation'`, [
        id,
      ]);
      const windowOpen = dbTime(new Date(Date.now() - QUOTA.windowMs));
      await conn.execute(
        `INSERT IGNORE INTO mail_quota (member_id, kind, total, window_count) VALUES (?, 'confirmation', 0, 0)`,
        [id],
      );
      const [quota] = await conn.execute<ResultSetHeader>(
        `UPDATE mail_quota SET total = total + 1,
           window_count = CASE WHEN window_start IS NULL OR window_start <= ? THEN 1 ELSE window_count + 1 END,
           window_start = CASE WHEN window_start IS NULL OR window_start <= ? THEN ? ELSE window_start END
         WHERE member_id = ? AND kind = 'confirmation' AND total < ?
           AND (window_start IS NULL OR window_start <= ? OR window_count < ?)`,
        [windowOpen, windowOpen, now, id, QUOTA.total, windowOpen, QUOTA.perWindow],
      );
      let outboxId: number | null = null;
      if (quota.affectedRows === 1) {
        const [outbox] = await conn.execute<ResultSetHeader>(
          `INSERT INTO mail_outbox (member_id, kind, attempts, next_attempt_at, created_at) VALUES (?, 'confirmation', 0, ?, ?)`,
          [id, now, now],
        );
        outboxId = outbox.insertId;
      }
      const [seq] = await conn.execute<ResultSetHeader>(
        'UPDATE event_sequence SET value = LAST_INSERT_ID(value + 1) WHERE id = 1',
      );
      await conn.execute(
        `INSERT INTO member_events (sequence, type, member_id, external_id, source, status, channel, occurred_at)
         VALUES (?, 'member.created', ?, ?, ?, 'pending', NULL, ?)`,
        [seq.insertId, id, b.externalId ?? null, b.source, now],
      );
      return { created: true, id, email, outboxId, createdAt: now };
    });
  }

  /** After commit, without the caller waiting: the confirmation link and mail, then the queue row goes. */
  async function sendConfirmation(memberId: number, email: string, outboxId: number): Promise<void> {
    const token = crypto.randomBytes(32).toString('base64url');
    const hash = crypto.createHash('sha256').update(token).digest('hex');
    const now = new Date();
    await pool.execute(
      `INSERT INTO member_tokens (member_id, purpose, token_hash, created_at, expires_at) VALUES (?, 'confirm', ?, ?, ?)`,
      [memberId, hash, dbTime(now), dbTime(new Date(now.getTime() + CONFIRM_TTL_MS))],
    );
    const values = { confirmUrl: `${env.PUBLIC_URL}/c/${token}`, privacyContact: env.PRIVACY_CONTACT };
    await transport.sendMail({
      from: env.MAIL_FROM,
      to: email,
      subject: 'Bekreft medlemskapet ditt i Sothys Kundeklubb',
      html: fill(htmlTemplate, values),
      text: fill(textTemplate, values),
    });
    await pool.execute('DELETE FROM mail_outbox WHERE id = ?', [outboxId]);
  }

  const app = express();
  app.use(express.json());
  app.post('/v1/members', (req, res, next) => {
    const b = req.body as SignUpBody;
    signUp(b)
      .then((m) => {
        if (!m.created) return void res.status(200).json({ id: m.id, status: 'pending' });
        const createdAt = new Date(`${m.createdAt!.replace(' ', 'T')}Z`).toISOString();
        res.status(201).json({
          id: m.id,
          email: m.email,
          firstName: b.firstName ?? null,
          lastName: b.lastName ?? null,
          phone: b.phone ?? null,
          source: b.source,
          sourceVersion: b.sourceVersion ?? null,
          externalId: b.externalId ?? null,
          partnerId: b.partnerId ?? null,
          status: 'pending',
          createdAt,
          updatedAt: createdAt,
          confirmedAt: null,
          leftAt: null,
        });
        if (m.outboxId !== null)
          sendConfirmation(m.id, m.email, m.outboxId).catch((err: unknown) =>
            console.error('confirmation mail failed', err),
          );
      })
      .catch(next);
  });
  await serveAsChild(app, async () => {
    transport.close();
    await pool.end();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
