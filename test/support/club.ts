import request from 'supertest';
import type { TestApp } from './test-app';
import { buildSignUp } from './test-app';
import { buildCampaign } from './factories';
import type { Container } from '../../src/container';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker, type Job } from '../../src/worker';
import type { DeliveryWorker } from '../../src/delivery/delivery.worker';

/** Active members through the API (the test app must run with DOUBLE_OPT_IN=false). */
export async function createActiveMembers(
  t: TestApp,
  n: number,
  prefix = 'medlem',
  extra: (i: number) => Record<string, unknown> = () => ({}),
): Promise<Array<{ id: number; email: string }>> {
  const out: Array<{ id: number; email: string }> = [];
  for (let i = 0; i < n; i++) {
    const email = `${prefix}${i}@example.no`;
    const r = await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp({ email, firstName: `Navn${i}`, ...extra(i) }));
    if (r.status !== 201 || r.body.status !== 'active')
      throw new Error(`sign-up failed: ${r.status} ${r.text}`);
    out.push({ id: r.body.id, email });
  }
  return out;
}

/** Many active members at once, straight into the table (for large campaigns in tests and benches). */
export async function insertActiveMembers(
  t: Pick<TestApp, 'c'>,
  n: number,
  prefix = 'massemedlem',
): Promise<void> {
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const chunk = 500;
  for (let start = 0; start < n; start += chunk) {
    const rows: unknown[] = [];
    const values: string[] = [];
    for (let i = start; i < Math.min(n, start + chunk); i++) {
      values.push(`(?, ?, 'osme-mobile', 'active', ?, ?, ?)`);
      rows.push(`${prefix}${i}@example.no`, `Navn${i}`, now, now, now);
    }
    await t.c.dataSource.query(
      `INSERT INTO members (email, first_name, source, status, created_at, updated_at, confirmed_at) VALUES ${values.join(', ')}`,
      rows,
    );
  }
}

export async function createCampaign(t: TestApp, overrides: Record<string, unknown> = {}): Promise<number> {
  const r = await request(t.app)
    .post('/v1/campaigns')
    .set('authorization', `Bearer ${t.tokens.campaigns}`)
    .send(buildCampaign(overrides));
  if (r.status !== 201) throw new Error(`campaign create failed: ${r.status} ${r.text}`);
  return r.body.id;
}

export async function campaignAction(t: TestApp, id: number, action: string, body: object = {}) {
  return request(t.app)
    .post(`/v1/campaigns/${id}/${action}`)
    .set('authorization', `Bearer ${t.tokens.campaigns}`)
    .send(body);
}

export async function stats(t: TestApp, id: number) {
  const r = await request(t.app)
    .get(`/v1/campaigns/${id}/stats`)
    .set('authorization', `Bearer ${t.tokens.campaigns}`);
  return r.body as {
    status: string;
    total: number;
    queued: number;
    sent: number;
    failed: number;
    skipped: number;
  };
}

export async function waitUntil<T>(
  fn: () => Promise<T | null | false | undefined>,
  ms = 20000,
  step = 50,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, step));
  }
}

/** How many newsletters (not confirmations) each address received. */
export function newsletterCounts(t: TestApp, subject: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of t.peer.mails) {
    if (m.parsed.subject !== subject) continue;
    for (const a of m.rcpt) counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return counts;
}

/**
 * The delivery worker of a test's container, run by a BackgroundWorker as in a worker process.
 * `onPump` is called after each completed pump (a look for work that sent what it found).
 */
export function runDeliveryWorker(
  c: Container,
  options: Parameters<typeof createDeliveryWorker>[1] = {},
  onPump?: () => void,
): { worker: DeliveryWorker; bg: BackgroundWorker } {
  const worker = createDeliveryWorker(c, options);
  const job: Job = onPump
    ? {
        name: worker.name,
        intervalMs: worker.intervalMs,
        run: () => worker.run().finally(onPump),
        interrupt: () => worker.interrupt(),
        stop: () => worker.stop(),
      }
    : worker;
  const bg = new BackgroundWorker({ logger: c.logger, jobs: [job] });
  bg.start();
  return { worker, bg };
}
