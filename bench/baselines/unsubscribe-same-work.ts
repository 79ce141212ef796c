import crypto from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import { createPool, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { serveAsChild } from '../support/child-server';

/**
 * Child process: the same-work baseline of the one-click unsubscribe (issue 20, figure 3).
 * Bare express + mysql2 (pool of 10, as the service's) on the service's own database: verifies
 * the same signed token with the same library and key (jsonwebtoken, HS256, the first key of
 * TOKEN_KEYS; payload `{ s: 'u', m: memberId }`), then does what the service's leave does, in one
 * transaction, statement for statement: lock the member; suppress the address (look for its HMAC,
 * insert it); forget the member in every room (mail queue rows and quota, queued deliveries
 * skipped, privacy requests' address, transactional bounce reports); delete the member's tokens
 * and search tokens (read, then each by its key); erase the profile and set `unsubscribed`; append the withdrawal consent event; clear the app's
 * externalId from the member's earlier events; bump the event sequence (read back in the same
 * statement) and append
 * `member.unsubscribed`. After commit, as the service does before it answers, one read for a
 * newsletter to this member still in flight. Answers 200 with a short page; a bad token 400.
 * No rate limit, no logging, no security headers, no retries.
 *
 * Environment: BARE_MYSQL_URL, TOKEN_KEYS (the service's `kid:secret,…`), SUPPRESSION_KEY.
 */

const PAGE =
  '<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Du er meldt av</title></head>' +
  '<body><main><h1>Du er meldt av</h1><p>Du får ikke flere nyhetsbrev fra Sothys Kundeklubb.</p></main></body></html>';

const dbTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  const pool = createPool({ uri: env.BARE_MYSQL_URL, connectionLimit: 10 });
  const first = env.TOKEN_KEYS.split(',')[0];
  const key = crypto.createSecretKey(Buffer.from(first.slice(first.indexOf(':') + 1), 'utf8'));

  function memberOf(token: string): number | null {
    try {
      const p = jwt.verify(token, key, { algorithms: ['HS256'] }) as { s?: string; m?: number };
      return p.s === 'u' && Number.isSafeInteger(p.m) && p.m! > 0 ? p.m! : null;
    } catch {
      return null;
    }
  }

  async function leave(id: number, channel: string): Promise<void> {
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      try {
        const [rows] = await conn.execute<RowDataPacket[]>('SELECT * FROM members WHERE id = ? FOR UPDATE', [
          id,
        ]);
        const m = rows[0];
        if (m?.email) {
          const now = dbTime(new Date());
          const hmac = crypto.createHmac('sha256', env.SUPPRESSION_KEY).update(String(m.email)).digest('hex');
          const [suppressed] = await conn.execute<RowDataPacket[]>(
            'SELECT 1 AS x FROM suppressions WHERE email_hmac = ?',
            [hmac],
          );
          if (suppressed.length === 0)
            await conn.execute(
              `INSERT INTO suppressions (email_hmac, reason, created_at) VALUES (?, 'unsubscribed', ?)`,
              [hmac, now],
            );
          await conn.execute('DELETE FROM mail_outbox WHERE member_id = ?', [id]);
          await conn.execute('DELETE FROM mail_quota WHERE member_id = ?', [id]);
          await conn.execute(
            `UPDATE deliveries SET status = 'skipped', last_error = 'left the club', updated_at = ? WHERE member_id = ? AND status = 'queued'`,
            [now, id],
          );
          await conn.execute(
            'UPDATE privacy_requests SET email = NULL, updated_at = ? WHERE email_hmac = ? AND email IS NOT NULL',
            [now, hmac],
          );
          await conn.execute('DELETE FROM bounce_reports WHERE member_id = ? AND delivery_id IS NULL', [id]);
          await conn.execute('DELETE FROM member_tokens WHERE member_id = ?', [id]);
          const [tokens] = await conn.execute<RowDataPacket[]>(
            'SELECT token FROM member_search_tokens WHERE member_id = ?',
            [id],
          );
          for (const { token } of tokens)
            await conn.execute('DELETE FROM member_search_tokens WHERE token = ? AND member_id = ?', [
              token,
              id,
            ]);
          await conn.execute(
            `UPDATE members SET email = NULL, first_name = NULL, last_name = NULL, phone = NULL, external_id = NULL,
               partner_id = NULL, source_version = NULL, status = 'unsubscribed', status_before_restriction = NULL,
               updated_at = ?, left_at = ? WHERE id = ?`,
            [now, now, id],
          );
          await conn.execute(
            `INSERT INTO consent_events (member_id, type, occurred_at, source, source_version, text_version, text_sha256, channel, given_at, code)
             VALUES (?, 'withdrawal', ?, NULL, NULL, NULL, NULL, ?, NULL, NULL)`,
            [id, now, channel],
          );
          const [withExternalId] = await conn.execute<RowDataPacket[]>(
            'SELECT sequence FROM member_events WHERE member_id = ? AND external_id IS NOT NULL',
            [id],
          );
          if (withExternalId.length > 0)
            await conn.execute(
              `UPDATE member_events SET external_id = NULL WHERE sequence IN (${withExternalId.map(() => '?').join(', ')})`,
              withExternalId.map((r) => Number(r.sequence)),
            );
          const [seq] = await conn.execute<ResultSetHeader>(
            'UPDATE event_sequence SET value = LAST_INSERT_ID(value + 1) WHERE id = 1',
          );
          await conn.execute(
            `INSERT INTO member_events (sequence, type, member_id, external_id, source, status, channel, occurred_at)
             VALUES (?, 'member.unsubscribed', ?, NULL, ?, 'unsubscribed', ?, ?)`,
            [seq.insertId, id, m.source, channel, now],
          );
        }
        await conn.commit();
      } catch (err) {
        await conn.rollback();
        throw err;
      }
    } finally {
      conn.release();
    }
    // Answer only when no newsletter to this member is mid-handoff (the service's settle).
    await pool.execute(`SELECT 1 AS x FROM deliveries WHERE member_id = ? AND status = 'sending' LIMIT 1`, [
      id,
    ]);
  }

  const app = express();
  app.use(express.urlencoded({ extended: false, limit: '1kb' }));
  app.post('/u/:token', (req, res, next) => {
    const memberId = memberOf(String(req.params.token));
    if (memberId === null)
      return void res.status(400).type('html').send('<!doctype html><p>Lenken virker ikke</p>');
    const body = req.body as Record<string, string> | undefined;
    const channel = body?.['List-Unsubscribe'] === 'One-Click' ? 'one-click' : 'link';
    leave(memberId, channel)
      .then(() => res.status(200).type('html').send(PAGE))
      .catch(next);
  });
  await serveAsChild(app, () => pool.end());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
