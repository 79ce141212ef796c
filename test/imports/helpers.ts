import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { TestApp } from '../support/test-app';

export const FIXTURES = path.join(__dirname, 'fixtures');

export const fixture = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, name));

export const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

/** `POST /v1/imports` with a CSV body, as an API client with `admin` (or the token given). */
export function postImport(
  t: TestApp,
  body: Buffer | string,
  query = '',
  o: { type?: string; token?: string } = {},
) {
  return request(t.app)
    .post(`/v1/imports${query}`)
    .set('authorization', `Bearer ${o.token ?? t.tokens.admin}`)
    .set('content-type', o.type ?? 'text/csv')
    .send(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
}

export const getImport = (t: TestApp, id: number) =>
  request(t.app).get(`/v1/imports/${id}`).set('authorization', `Bearer ${t.tokens.admin}`);

/** Starts an import and waits for it to end: the final report. */
export async function importAndWait(t: TestApp, body: Buffer | string, query = '') {
  const r = await postImport(t, body, query);
  if (r.status !== 201) throw new Error(`import not started: ${r.status} ${r.text}`);
  await t.c.imports.settled(r.body.id);
  const done = await getImport(t, r.body.id);
  return { started: r, report: done.body };
}

/** Rows of every table an import could write to, and the event counter. */
export async function tableCounts(t: TestApp): Promise<Record<string, number>> {
  // Mail sent after an earlier commit leaves mail_outbox meanwhile: let it finish first.
  await t.c.mailQueue.drain();
  const out: Record<string, number> = {};
  for (const table of [
    'members',
    'consent_events',
    'member_events',
    'mail_outbox',
    'mail_quota',
    'member_search_tokens',
    'suppressions',
    'imports',
  ]) {
    const rows = await t.c.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`);
    out[table] = Number(rows[0].n);
  }
  out.eventSequence = await t.c.events.lastSequence();
  return out;
}

/** A member row by address, or undefined. */
export async function memberByEmail(t: TestApp, email: string): Promise<Record<string, unknown> | undefined> {
  const rows = await t.c.dataSource.query('SELECT * FROM members WHERE email = ?', [email]);
  return rows[0];
}

/** A CSV text with `;`, CRLF, and the given data rows under the full header. */
export function csv(
  rows: string[][],
  header = ['email', 'firstName', 'lastName', 'consentTextVersion', 'consentGivenAt'],
) {
  return [header, ...rows].map((r) => r.join(';')).join('\r\n') + '\r\n';
}

/** A unique address per call within a test run. */
let n = 0;
export const uniqueEmail = (who: string) =>
  `${who}.${process.pid}.${Date.now().toString(36)}.${++n}@example.no`;

export const EVIDENCE = ['kundeklubb-2024-05', '01.02.2025'];
