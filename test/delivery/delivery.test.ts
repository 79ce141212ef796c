import crypto from 'node:crypto';
import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/test-app';
import {
  campaignAction,
  createActiveMembers,
  createCampaign,
  newsletterCounts,
  runDeliveryWorker,
  stats,
  waitUntil,
} from '../support/club';
import { verifyDkim } from '../support/smtp-peer';
import { createDeliveryWorker } from '../../src/jobs';
import type { BackgroundWorker } from '../../src/worker';
import type { DeliveryWorker } from '../../src/delivery/delivery.worker';

const SUBJECT = 'Julekalender hos Sothys';

describe.each(databaseKinds())('delivery on %s', (kind) => {
  let t: TestApp;
  let running: BackgroundWorker[] = [];
  const dkim = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeEach(async () => {
    t = await startTestApp(kind, {
      env: {
        DOUBLE_OPT_IN: 'false',
        DKIM_DOMAIN: 'cosmenor.no',
        DKIM_SELECTOR: 'kk2026',
        DKIM_PRIVATE_KEY: dkim.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
  });
  afterEach(async () => {
    for (const w of running) await w.stop();
    running = [];
    await t?.close();
  });

  /** Completed pumps of the last worker started: each one looked for work and sent what it found. */
  let pumps = 0;
  function startWorker(overrides: Parameters<typeof createDeliveryWorker>[1] = {}): DeliveryWorker {
    pumps = 0;
    const { worker, bg } = runDeliveryWorker(
      t.c,
      { retryBaseMs: 100, housekeepingMs: 100, leaseMs: 5000, ...overrides },
      () => void pumps++,
    );
    running.push(bg);
    return worker;
  }

  const untilStatus = (id: number, status: string, ms = 30000) =>
    waitUntil(async () => {
      const s = await stats(t, id);
      return s.status === status && s;
    }, ms);

  it('sends to every active member exactly once, with exact unsubscribe headers, DKIM over them', async () => {
    const members = await createActiveMembers(t, 30);
    // Not active: never receives the campaign.
    const [gone] = await createActiveMembers(t, 1, 'gone');
    await t.c.members.leave(gone.id, 'app');
    startWorker();
    const id = await createCampaign(t);
    const sent = await campaignAction(t, id, 'send');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: 'sending', total: 30 });
    const done = await untilStatus(id, 'sent');
    expect(done).toMatchObject({ total: 30, queued: 0, sent: 30, failed: 0, skipped: 0 });

    const counts = newsletterCounts(t, SUBJECT);
    expect(members.every((m) => counts.get(m.email) === 1)).toBe(true);
    expect(counts.size).toBe(30);
    expect(t.peer.mailsTo(gone.email).filter((m) => m.parsed.subject === SUBJECT)).toHaveLength(0);

    const mail = t.peer.mailsTo(members[3].email).find((m) => m.parsed.subject === SUBJECT)!;
    const header = (key: string) =>
      mail.parsed.headerLines
        .filter((h) => h.key === key)
        .map((h) =>
          h.line
            .replace(/\r?\n[ \t]+/g, ' ')
            .replace(/^[^:]*:\s*/, '')
            .trim(),
        );
    expect(header('list-unsubscribe')).toHaveLength(1);
    expect(header('list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
    const url = /^<(.+)>$/.exec(header('list-unsubscribe')[0])![1];
    expect(url.startsWith(`${TEST_PUBLIC_URL}/u/`)).toBe(true);
    expect(url.length).toBeLessThan(200);
    expect(mail.parsed.html).toContain(`href="${url}"`);
    expect(mail.parsed.text).toContain(url);
    expect(mail.parsed.messageId).toBe(`<kk.c${id}.m${members[3].id}@cosmenor.no>`);
    // The token names this member and nothing more.
    expect(t.c.tokens.verify(url.split('/u/')[1], 'unsubscribe')).toEqual({
      scope: 'unsubscribe',
      memberId: members[3].id,
    });
    const sig = verifyDkim(mail.raw, dkim.publicKey);
    expect(sig.h.toLowerCase().split(':')).toEqual(
      expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']),
    );
  });

  it('two workers on one database never send the same row twice', async () => {
    const members = await createActiveMembers(t, 60);
    t.peer.setLatency(5);
    startWorker({ concurrency: 3 });
    startWorker({ concurrency: 3 });
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    const done = await untilStatus(id, 'sent');
    expect(done.sent).toBe(60);
    const counts = newsletterCounts(t, SUBJECT);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(members.every((m) => counts.get(m.email) === 1)).toBe(true);
  });

  it('retries a 421 with backoff and delivers; a 550 fails with the reason', async () => {
    const members = await createActiveMembers(t, 6);
    // The first attempt for members[1] is refused whenever it comes (a time window
    // could close before a slow CI machine made its first attempt).
    let refusals = 0;
    t.peer.behave((rcpt) => {
      if (rcpt === members[0].email)
        return { code: 550, message: '5.1.1 <' + rcpt + '> mailbox unavailable' };
      if (rcpt === members[1].email && refusals < 1) {
        refusals += 1;
        return { code: 421, message: '4.7.0 try again later' };
      }
      return null;
    });
    startWorker();
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    const done = await untilStatus(id, 'sent');
    expect(done).toMatchObject({ total: 6, sent: 5, failed: 1, skipped: 0 });
    expect(t.peer.mailsTo(members[1].email).filter((m) => m.parsed.subject === SUBJECT)).toHaveLength(1);
    const rows = await t.c.dataSource.query(
      'SELECT member_id, status, attempts, last_error FROM deliveries WHERE campaign_id = ?',
      [id],
    );
    const failed = rows.find((r: { member_id: number }) => Number(r.member_id) === members[0].id);
    expect(failed.status).toBe('failed');
    expect(failed.last_error).toMatch(/550|mailbox unavailable/);
    expect(failed.last_error).not.toContain('@');
    const retried = rows.find((r: { member_id: number }) => Number(r.member_id) === members[1].id);
    expect(refusals).toBe(1);
    expect(Number(retried.attempts)).toBeGreaterThan(1);
  });

  it('waits out an SMTP outage and completes; nothing lost', async () => {
    const members = await createActiveMembers(t, 20);
    await t.peer.down();
    startWorker();
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    await waitUntil(async () => t.logs.some((l) => l.includes('SMTP unavailable; holding deliveries')));
    expect((await stats(t, id)).sent).toBe(0);
    await t.peer.up();
    const done = await untilStatus(id, 'sent', 60000);
    expect(done).toMatchObject({ sent: 20, failed: 0 });
    const counts = newsletterCounts(t, SUBJECT);
    expect(members.every((m) => counts.get(m.email) === 1)).toBe(true);
  });

  it('pause stops sending, resume finishes, cancel ends', async () => {
    await createActiveMembers(t, 40);
    t.peer.setLatency(20);
    startWorker({ concurrency: 2, sendRate: 40 });
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    await waitUntil(async () => (await stats(t, id)).sent >= 5);
    expect((await campaignAction(t, id, 'pause')).body.status).toBe('paused');
    // Messages already handed to SMTP finish; claimed ones go back to the queue. Then nothing moves.
    await waitUntil(async () => ((await stats(t, id)) as { sending?: number }).sending === 0, 10000);
    const paused = await stats(t, id);
    // The worker looks twice more and finds nothing to send.
    const seen = pumps;
    await waitUntil(async () => pumps >= seen + 2);
    const later = await stats(t, id);
    expect(later.sent).toBe(paused.sent);
    expect(later.sent).toBeLessThan(40);
    expect((await campaignAction(t, id, 'pause')).status).toBe(409);
    expect((await campaignAction(t, id, 'resume')).body.status).toBe('sending');
    const done = await untilStatus(id, 'sent');
    expect(done.sent).toBe(40);
    expect(newsletterCounts(t, SUBJECT).size).toBe(40);

    const second = await createCampaign(t, { subject: 'Avlyst' });
    await campaignAction(t, second, 'send', { scheduledAt: new Date(Date.now() + 3600_000).toISOString() });
    expect((await stats(t, second)).status).toBe('scheduled');
    expect((await campaignAction(t, second, 'cancel')).body.status).toBe('cancelled');
    expect((await campaignAction(t, second, 'resume')).status).toBe(409);
    expect((await campaignAction(t, second, 'send')).status).toBe(409);
  });

  it('a scheduled campaign starts on time', async () => {
    await createActiveMembers(t, 3);
    startWorker();
    const id = await createCampaign(t);
    const r = await campaignAction(t, id, 'send', { scheduledAt: new Date(Date.now() + 1500).toISOString() });
    expect(r.body.status).toBe('scheduled');
    expect((await stats(t, id)).status).toBe('scheduled');
    const done = await untilStatus(id, 'sent');
    expect(done.sent).toBe(3);
  });

  it('a member who leaves while the campaign is sending receives nothing after the leave returns', async () => {
    const members = await createActiveMembers(t, 60);
    t.peer.setLatency(15);
    startWorker({ concurrency: 2, sendRate: 60 });
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    await waitUntil(async () => (await stats(t, id)).sent >= 3);
    // Those not yet mailed leave now, through the app route.
    const counts = newsletterCounts(t, SUBJECT);
    const leaving = members.filter((m) => !counts.has(m.email)).slice(0, 20);
    const returnedAt = new Map<string, number>();
    await Promise.all(
      leaving.map(async (m) => {
        const r = await request(t.app)
          .post(`/v1/members/${m.id}/unsubscribe`)
          .set('authorization', `Bearer ${t.tokens.app}`)
          .send({ channel: 'app' });
        expect(r.status).toBe(200);
        returnedAt.set(m.email, Date.now());
      }),
    );
    const done = await untilStatus(id, 'sent');
    for (const m of leaving) {
      const late = t.peer
        .mailsTo(m.email)
        .filter((x) => x.parsed.subject === SUBJECT && x.at > returnedAt.get(m.email)!);
      expect(late).toHaveLength(0);
    }
    const skipped = leaving.filter(
      (m) => !t.peer.mailsTo(m.email).some((x) => x.parsed.subject === SUBJECT),
    ).length;
    expect(done.skipped).toBe(skipped);
    expect(skipped).toBeGreaterThan(10);
    expect(done.sent + done.skipped).toBe(60);
  });

  it('graceful stop releases claims; another worker completes without duplicates', async () => {
    const members = await createActiveMembers(t, 40);
    t.peer.setLatency(10);
    startWorker({ concurrency: 2, sendRate: 50 });
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    await waitUntil(async () => (await stats(t, id)).sent >= 5);
    const first = running.shift()!;
    await first.stop();
    const held = await t.c.dataSource.query(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'sending'`);
    expect(Number(held[0].n)).toBe(0);
    startWorker();
    await untilStatus(id, 'sent');
    const counts = newsletterCounts(t, SUBJECT);
    expect(members.every((m) => counts.get(m.email) === 1)).toBe(true);
  });

  it('rows left sending by a dead worker are retaken after the lease, once it has been silent', async () => {
    await createActiveMembers(t, 5);
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    // A worker that claimed and died: its rows sit in `sending` with a lease in the past.
    const claimed = await t.c.deliveryStore.claim('dead-worker', [id], 3, new Date(), -1000);
    expect(claimed).toHaveLength(3);
    startWorker({ ownerSilentMs: 500 });
    const done = await untilStatus(id, 'sent');
    expect(done.sent).toBe(5);
    expect(newsletterCounts(t, SUBJECT).size).toBe(5);
  });

  it('retention clears SMTP error details after RETENTION_DELIVERY_ERROR_DAYS, keeping the outcome', async () => {
    const [m] = await createActiveMembers(t, 1);
    t.peer.behave(() => ({ code: 550, message: '5.1.1 mailbox unavailable' }));
    startWorker();
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    await untilStatus(id, 'sent');
    const row = async () =>
      (
        await t.c.dataSource.query('SELECT status, last_error FROM deliveries WHERE member_id = ?', [m.id])
      )[0];
    expect((await row()).last_error).toMatch(/550/);
    const at89 = await t.c.retention.run(new Date(Date.now() + 89 * 86_400_000));
    expect(at89['delivery-error-details']).toBe(0);
    const at91 = await t.c.retention.run(new Date(Date.now() + 91 * 86_400_000));
    expect(at91['delivery-error-details']).toBe(1);
    expect(await row()).toMatchObject({ status: 'failed', last_error: null });
  });

  it('applies the audience at send: exactly the matching active members; one who stops matching or is restricted before their turn is skipped', async () => {
    const partner =
      (p: string, source = 'cosmenor-partner') =>
      () => ({ source, partnerId: p });
    const matching = await createActiveMembers(t, 4, 'treff', partner('salong-17'));
    const otherPartner = await createActiveMembers(t, 2, 'annen', partner('salong-99'));
    const otherSource = await createActiveMembers(t, 2, 'app', partner('salong-17', 'osme-mobile'));
    const [left] = await createActiveMembers(t, 1, 'borte', partner('salong-17'));
    await t.c.members.leave(left.id, 'app');

    const id = await createCampaign(t, {
      audience: { sources: ['cosmenor-partner'], partnerIds: ['salong-17'] },
    });
    // No worker yet: the snapshot is taken, nobody has had their turn.
    expect((await campaignAction(t, id, 'send')).body).toMatchObject({ status: 'sending', total: 4 });
    const [moved, restricted, ...reached] = matching;
    const patched = await request(t.app)
      .patch(`/v1/members/${moved.id}`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ partnerId: 'salong-99' });
    expect(patched.status).toBe(200);
    const restriction = await request(t.app)
      .post(`/v1/members/${restricted.id}/restrict`)
      .set('authorization', `Bearer ${t.tokens.privacy}`)
      .send({ restricted: true });
    expect(restriction.body.status).toBe('restricted');

    startWorker();
    const done = await waitUntil(async () => {
      const s = await stats(t, id);
      return s.status === 'sent' && s;
    }, 30000);
    expect(done).toMatchObject({ total: 4, sent: 2, skipped: 2, failed: 0 });
    const counts = newsletterCounts(t, SUBJECT);
    expect([...counts.keys()].sort()).toEqual(reached.map((m) => m.email).sort());
    expect([...counts.values()]).toEqual([1, 1]);
    for (const m of [moved, restricted, ...otherPartner, ...otherSource])
      expect(t.peer.mailsTo(m.email).filter((x) => x.parsed.subject === SUBJECT)).toHaveLength(0);
    const reasons = await t.c.dataSource.query(
      `SELECT member_id, last_error FROM deliveries WHERE campaign_id = ? AND status = 'skipped' ORDER BY member_id`,
      [id],
    );
    expect(
      reasons.map((r: { member_id: number; last_error: string }) => [Number(r.member_id), r.last_error]),
    ).toEqual([
      [moved.id, 'no longer in the audience'],
      [restricted.id, 'member restricted'],
    ]);
  });
});
