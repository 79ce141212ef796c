import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, dumpAllTables, linkIn, startTestApp, type TestApp } from '../support/test-app';
import {
  campaignAction,
  createActiveMembers,
  createCampaign,
  insertActiveMembers,
  stats,
  waitUntil,
} from '../support/club';
import { toDbTime } from '../../src/db/time';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';
import { arfComplaint, autoReply, postfixDsn } from './fixtures/reports';
import { sesBounce, sesComplaint } from './fixtures/ses';
import { mailgunFailed } from './fixtures/mailgun';
import { postmarkBounce } from './fixtures/postmark';
import { sendgridBatch } from './fixtures/sendgrid';
import { bounceEnv, mailgunSignature, offlineSns } from './signing';
import { deliverReport, mailTo, memberState, postWebhook, startListener } from './helpers';
import { login, staffUser } from '../admin/helpers';

/** Every table, less the worker's heartbeat (it beats while the test looks). */
const state = async (t: TestApp) => (await dumpAllTables(t.c)).replace(/== workers\n[^\n]*/, '');

const VERP = /^b-[dt][0-9a-z]+-[a-z2-7]{16}@bounce\.cosmenor\.test$/;

/** CONTRACT §9 through the service: newsletters sent by the worker, reports over SMTP and webhooks. */
describe.each(databaseKinds())('bounces and complaints on %s', (kind) => {
  let t: TestApp;
  let worker: BackgroundWorker;
  let listener: { port: number; close(): Promise<void> };
  beforeAll(async () => {
    t = await startTestApp(kind, {
      env: { DOUBLE_OPT_IN: 'false', ...bounceEnv() },
      overrides: { fetchText: offlineSns().fetchText },
    });
    worker = new BackgroundWorker({
      logger: t.c.logger,
      jobs: [createDeliveryWorker(t.c, { retryBaseMs: 100, housekeepingMs: 100 })],
    });
    worker.start();
    listener = await startListener(t);
  });
  afterAll(async () => {
    await listener?.close();
    await worker?.stop();
    await t?.close();
  });

  const sendAndWait = async (subject: string, audience?: { partnerIds: string[] }) => {
    const id = await createCampaign(t, { subject, name: subject, ...(audience ? { audience } : {}) });
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
    await waitUntil(async () => (await stats(t, id)).status === 'sent', 30000);
    return id;
  };
  const received = (email: string, subject: string) =>
    t.peer.mailsTo(email).filter((m) => m.parsed.subject === subject).length;
  const dsn = (to: string, recipient: string, messageId: string, status = '5.1.1', action = 'failed') =>
    postfixDsn({ to, recipient, messageId, status, action });

  it('a DSN to a newsletter’s VERP address makes the member bounced, once, whoever reports it again', async () => {
    const [dead, alive] = await createActiveMembers(t, 2, 'hard', () => ({ partnerId: 'hard' }));
    const campaignId = await sendAndWait('Hard retur', { partnerIds: ['hard'] });
    const mail = await mailTo(t, dead.email, 'Hard retur');
    expect(mail.from).toMatch(VERP);
    expect((await mailTo(t, alive.email, 'Hard retur')).from).not.toBe(mail.from);

    const report = dsn(mail.from, dead.email, String(mail.parsed.messageId));
    expect(await deliverReport(listener.port, mail.from, report)).toMatch(/^250 OK: applied/);
    const after = await memberState(t, dead.id);
    expect(after.status).toBe('bounced');
    expect(after.events.filter((e) => e.type === 'bounced')).toEqual([
      expect.objectContaining({ type: 'bounced', code: '5.1.1', channel: null }),
    ]);
    expect(await stats(t, campaignId)).toMatchObject({
      sent: 2,
      bounced: 1,
      complained: 0,
      pausedReason: null,
    });

    // The same DSN again, and the same bounce by a provider webhook: applied once.
    const before = await state(t);
    expect(await deliverReport(listener.port, mail.from, report)).toMatch(/^250 OK: duplicate/);
    const ses = await postWebhook(
      t,
      'ses',
      sesBounce({ recipient: dead.email, messageId: String(mail.parsed.messageId) }),
    );
    expect(ses.status).toBe(200);
    expect(ses.body).toEqual({ received: 1, applied: 0 });
    expect(await state(t)).toBe(before);

    // Nothing more is mailed to the dead address; the other member still gets the next one.
    await sendAndWait('Etter hard retur', { partnerIds: ['hard'] });
    expect(received(dead.email, 'Etter hard retur')).toBe(0);
    expect(received(alive.email, 'Etter hard retur')).toBe(1);
    // The report's words are kept without the address.
    const dump = await state(t);
    expect(dump).toContain('mailbox unavailable <recipient>');
    expect(dump).not.toContain(`unavailable <${dead.email}>`);
    const metrics = await request(t.app).get('/metrics');
    expect(metrics.text).toMatch(/kundeklubb_bounce_reports_total\{kind="hard",source="smtp"\} 1/);
  });

  it('a forged tag, an auto-reply, a foreign recipient, a 2 MB message and 60 recipients change nothing', async () => {
    const [m] = await createActiveMembers(t, 1, 'forged', () => ({ partnerId: 'forged' }));
    await sendAndWait('Forfalsket', { partnerIds: ['forged'] });
    const mail = await mailTo(t, m.email, 'Forfalsket');
    const forged = mail.from.replace(
      /-([a-z2-7]{16})@/,
      (_s, mac: string) => `-${mac.split('').reverse().join('')}@`,
    );
    const before = await state(t);
    expect(
      await deliverReport(listener.port, forged, dsn(forged, m.email, String(mail.parsed.messageId))),
    ).toMatch(/^250 OK: unmatched/);
    expect(await deliverReport(listener.port, mail.from, autoReply(mail.from))).toMatch(
      /^250 OK: not a report/,
    );
    expect(await deliverReport(listener.port, mail.from, 'garbage\r\n\r\n--\r\n')).toMatch(/^250/);
    await expect(deliverReport(listener.port, 'postmaster@cosmenor.no', autoReply('x'))).rejects.toThrow(
      /550/,
    );
    const huge = dsn(mail.from, m.email, String(mail.parsed.messageId)) + 'x'.repeat(2 * 1024 * 1024);
    await expect(deliverReport(listener.port, mail.from, huge)).rejects.toThrow(/552/);
    const many = Array.from({ length: 60 }, (_v, i) => mail.from.replace('@', `${i}@`));
    expect(await deliverReport(listener.port, many, autoReply('x'))).toMatch(
      /^250 .*\(10 recipients refused\)/,
    );
    expect(await state(t)).toBe(before);
    expect((await memberState(t, m.id)).status).toBe('active');

    // A test send goes out with a VERP address that names nobody: a report about it changes nothing.
    const campaignId = await createCampaign(t, { subject: 'Testutsending', name: 'Testutsending' });
    const test = await request(t.app)
      .post(`/v1/campaigns/${campaignId}/test`)
      .set('authorization', `Bearer ${t.tokens.campaigns}`)
      .send({ to: ['test@cosmenor.no'] });
    expect(test.status).toBe(200);
    const testMail = await mailTo(t, 'test@cosmenor.no', /Testutsending/);
    expect(testMail.from).toMatch(/^b-x-[a-z2-7]{16}@bounce\.cosmenor\.test$/);
    const beforeTest = await state(t);
    const report = dsn(testMail.from, 'test@cosmenor.no', String(testMail.parsed.messageId));
    expect(await deliverReport(listener.port, testMail.from, report)).toMatch(/^250 OK: unmatched/);
    expect(await state(t)).toBe(beforeTest);
  });

  it('soft bounces on three campaigns in a row make the member bounced; a delivery between them does not', async () => {
    const [always, once] = await createActiveMembers(t, 2, 'soft', () => ({ partnerId: 'soft' }));
    for (const [n, subject] of ['Myk 1', 'Myk 2', 'Myk 3'].entries()) {
      await sendAndWait(subject, { partnerIds: ['soft'] });
      const a = await mailTo(t, always.email, subject);
      expect(await deliverReport(listener.port, a.from, dsn(a.from, always.email, '<x@y>', '4.2.2'))).toMatch(
        /applied/,
      );
      if (n !== 1) {
        // `once` got the second newsletter without a bounce: that delivery breaks the row.
        const o = await mailTo(t, once.email, subject);
        const delayed = dsn(o.from, once.email, '<x@y>', '4.4.1', 'delayed');
        expect(await deliverReport(listener.port, o.from, delayed)).toMatch(/applied/);
      }
      expect((await memberState(t, always.id)).status).toBe(n < 2 ? 'active' : 'bounced');
    }
    expect((await memberState(t, once.id)).status).toBe('active');
    expect((await memberState(t, always.id)).events.find((e) => e.type === 'bounced')?.code).toBe('4.2.2');
  });

  it('a complaint is exactly an unsubscribe with channel complaint: erased, suppressed, counted, never mailed again', async () => {
    const [viaSes, viaArf, stays] = await createActiveMembers(t, 3, 'spam', () => ({ partnerId: 'spam' }));
    const campaignId = await sendAndWait('Spam?', { partnerIds: ['spam'] });
    const sesMail = await mailTo(t, viaSes.email, 'Spam?');
    const res = await postWebhook(
      t,
      'ses',
      sesComplaint({ recipient: viaSes.email, messageId: String(sesMail.parsed.messageId) }),
    );
    expect(res.body).toEqual({ received: 1, applied: 1 });
    const arfMail = await mailTo(t, viaArf.email, 'Spam?');
    const arf = arfComplaint({
      to: 'fbl@bounce.cosmenor.test',
      returnPath: arfMail.from,
      recipient: viaArf.email,
    });
    expect(await deliverReport(listener.port, 'fbl@bounce.cosmenor.test', arf)).toMatch(/applied/);

    for (const id of [viaSes.id, viaArf.id]) {
      const s = await memberState(t, id);
      expect(s.status).toBe('unsubscribed');
      expect(s.email).toBeNull();
      expect(s.events.at(-1)).toMatchObject({ type: 'withdrawal', channel: 'complaint' });
    }
    expect(await stats(t, campaignId)).toMatchObject({ complained: 2, bounced: 0 });
    const dump = await state(t);
    expect(dump).not.toContain(viaSes.email);
    expect(dump).not.toContain(viaArf.email);
    await sendAndWait('Etter klagen', { partnerIds: ['spam'] });
    expect(received(viaSes.email, 'Etter klagen') + received(viaArf.email, 'Etter klagen')).toBe(0);
    expect(received(stays.email, 'Etter klagen')).toBe(1);
    // Signing up again is a new consent through double opt-in (the suppression kept).
    const again = await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp({ email: viaSes.email }));
    expect(again.body.status).toBe('pending');
  });

  it('each provider’s bounce reaches the same outcome; a bad signature is 401 and an unknown payload 200, changing nothing', async () => {
    const people = await createActiveMembers(t, 3, 'provider', () => ({ partnerId: 'provider' }));
    await sendAndWait('Leverandør', { partnerIds: ['provider'] });
    const id = async (email: string) => String((await mailTo(t, email, 'Leverandør')).parsed.messageId);

    const before = await state(t);
    const forged = await request(t.app)
      .post('/webhooks/mailgun')
      .send({
        signature: { ...mailgunSignature(), signature: '00'.repeat(32) },
        'event-data': mailgunFailed({ recipient: people[0].email, messageId: await id(people[0].email) }),
      });
    expect(forged.status).toBe(401);
    const unknown = await postWebhook(t, 'mailgun', { event: 'opened', recipient: people[0].email });
    expect([unknown.status, unknown.body]).toEqual([200, { received: 0, applied: 0 }]);
    const notJson = await request(t.app).post('/webhooks/sendgrid').send('not json');
    expect(notJson.status).toBe(401);
    expect(await state(t)).toBe(before);

    const mg = await postWebhook(
      t,
      'mailgun',
      mailgunFailed({ recipient: people[0].email, messageId: await id(people[0].email) }),
    );
    const sg = await postWebhook(t, 'sendgrid', [
      sendgridBatch({ recipient: people[1].email, messageId: await id(people[1].email) }).bounce,
    ]);
    const pm = await postWebhook(t, 'postmark', postmarkBounce({ recipient: people[2].email }));
    expect([mg.body, sg.body, pm.body]).toEqual([
      { received: 1, applied: 1 },
      { received: 1, applied: 1 },
      { received: 1, applied: 1 },
    ]);
    for (const p of people) expect((await memberState(t, p.id)).status).toBe('bounced');
  });

  it('reports arriving together share transactions; a repeat, two reports on one member and a DSN racing a webhook each count once', async () => {
    const people = await createActiveMembers(t, 12, 'batch', () => ({ partnerId: 'batch' }));
    const campaignId = await sendAndWait('Samlet', { partnerIds: ['batch'] });
    const mails = await Promise.all(people.map((p) => mailTo(t, p.email, 'Samlet')));
    const event = (i: number) =>
      sendgridBatch({ recipient: people[i].email, messageId: String(mails[i].parsed.messageId) });
    // One SendGrid post: a bounce for members 0-10, member 0's twice, and member 11's bounce then complaint.
    const batch = [
      ...people.slice(0, 11).map((_, i) => event(i).bounce),
      event(0).bounce,
      event(11).bounce,
      event(11).spamreport,
    ];
    const transactions = jest.spyOn(t.c.dataSource, 'transaction');
    const [sg, ...smtp] = await Promise.all([
      postWebhook(t, 'sendgrid', batch),
      // The same hard bounces of members 1-4 by DSN, at the same time.
      ...[1, 2, 3, 4].map((i) =>
        deliverReport(listener.port, mails[i].from, dsn(mails[i].from, people[i].email, '<x@y>')),
      ),
    ]);
    const used = transactions.mock.calls.length;
    transactions.mockRestore();
    // 12 bounces and 1 complaint applied once each, whichever path came first; the rest are repeats.
    const smtpApplied = smtp.filter((r) => /applied/.test(r)).length;
    expect(smtp.every((r) => /^250 OK: (applied|duplicate)/.test(r))).toBe(true);
    expect(sg.body).toEqual({ received: 14, applied: 13 - smtpApplied });
    // 18 reports, far fewer transactions (the complaint's settling and the guardrail's reads included).
    expect(used).toBeLessThan(10);
    for (const p of people.slice(0, 11)) {
      const s = await memberState(t, p.id);
      expect(s.status).toBe('bounced');
      expect(s.events.filter((e) => e.type === 'bounced')).toHaveLength(1);
    }
    const eleven = await memberState(t, people[11].id);
    expect(eleven.status).toBe('unsubscribed');
    expect(eleven.events.slice(-2)).toMatchObject([
      { type: 'bounced', code: '5.0.0' },
      { type: 'withdrawal', channel: 'complaint' },
    ]);
    const appEvents: Array<{ type: string; n: number }> = await t.c.dataSource.query(
      `SELECT type, COUNT(*) AS n FROM member_events WHERE member_id IN (${people.map((p) => p.id).join(',')}) AND type IN ('member.bounced', 'member.unsubscribed') GROUP BY type ORDER BY type`,
    );
    expect(appEvents.map((r) => [r.type, Number(r.n)])).toEqual([
      ['member.bounced', 12],
      ['member.unsubscribed', 1],
    ]);
    expect(await stats(t, campaignId)).toMatchObject({ bounced: 12, complained: 1 });
  });

  it('one report failing in a shared transaction fails alone: the others are applied; sent again, it applies', async () => {
    const people = await createActiveMembers(t, 5, 'isolert', () => ({ partnerId: 'isolert' }));
    await sendAndWait('Isolert', { partnerIds: ['isolert'] });
    const mails = await Promise.all(people.map((p) => mailTo(t, p.email, 'Isolert')));
    const batch = people.map(
      (p, i) => sendgridBatch({ recipient: p.email, messageId: String(mails[i].parsed.messageId) }).bounce,
    );
    const original = t.c.members.markBouncedMany.bind(t.c.members);
    const failing = jest.spyOn(t.c.members, 'markBouncedMany').mockImplementation(async (m, items) => {
      if (items.some((x) => x.member.id === people[2].id)) throw new Error('disk full');
      return original(m, items);
    });
    const res = await postWebhook(t, 'sendgrid', batch);
    const calls = failing.mock.calls.map(([, items]) => items.map((x) => x.member.id));
    failing.mockRestore();
    // The five in one transaction, then each alone: only member 2's fails, and the post is
    // answered 500, so SendGrid posts the batch again.
    const ids = people.map((p) => p.id);
    expect(calls).toEqual([ids, ...ids.map((id) => [id])]);
    expect(res.status).toBe(500);
    expect((await memberState(t, people[2].id)).status).toBe('active');
    for (const i of [0, 1, 3, 4]) expect((await memberState(t, people[i].id)).status).toBe('bounced');
    const again = await postWebhook(t, 'sendgrid', batch);
    expect(again.body).toEqual({ received: 5, applied: 1 });
    for (const p of people) {
      const s = await memberState(t, p.id);
      expect(s.status).toBe('bounced');
      expect(s.events.filter((e) => e.type === 'bounced')).toHaveLength(1);
    }
  });
});

/** Without a worker: confirmation mail, rectification, the guardrail, unconfigured providers. */
describe.each(databaseKinds())(
  'bounces of transactional mail, rectification and the guardrail on %s',
  (kind) => {
    let t: TestApp;
    let listener: { port: number; close(): Promise<void> };
    beforeAll(async () => {
      t = await startTestApp(kind, {
        env: bounceEnv({ POSTMARK_WEBHOOK_SECRET: '' }),
        overrides: { fetchText: offlineSns().fetchText },
      });
      listener = await startListener(t);
    });
    afterAll(async () => {
      await listener?.close();
      await t?.close();
    });
    const app = () => ({ authorization: `Bearer ${t.tokens.app}` });
    const signUp = async (email: string) =>
      (await request(t.app).post('/v1/members').set(app()).send(buildSignUp({ email }))).body.id as number;
    const confirmationTo = (email: string) => mailTo(t, email, /Bekreft/);
    /** Postfix's DSN for a mail that went out with the envelope sender `from`. */
    const hardBounce = (from: string, recipient: string) =>
      deliverReport(listener.port, from, postfixDsn({ to: from, recipient, messageId: '<x@y>' }));

    it('a sign-up whose confirmation hard-bounces is deleted, without suppression', async () => {
      const id = await signUp('skrivefeil@gmial.test');
      const mail = await confirmationTo('skrivefeil@gmial.test');
      expect(mail.from).toMatch(VERP);
      expect(await hardBounce(mail.from, 'skrivefeil@gmial.test')).toMatch(/applied/);
      expect((await memberState(t, id)).status).toBe('gone');
      expect(await state(t)).not.toContain('skrivefeil@gmial.test');
      const anew = await request(t.app)
        .post('/v1/members')
        .set(app())
        .send(buildSignUp({ email: 'skrivefeil@gmial.test' }));
      expect(anew.status).toBe(201);
    });

    it('rectifying the address of a bounced member makes them pending and mails the new address; a taken address is 409', async () => {
      const id = await signUp('gammel@example.no');
      const confirmUrl = linkIn(
        (await confirmationTo('gammel@example.no')).parsed.text ?? '',
        /\/c\/[A-Za-z0-9_-]+/,
      )!;
      expect((await request(t.app).post(confirmUrl)).status).toBe(200);
      expect((await memberState(t, id)).status).toBe('active');
      // SES reports the address dead, for a message it knows by its own id: found by the address.
      const ses = await postWebhook(
        t,
        'ses',
        sesBounce({ recipient: 'gammel@example.no', messageId: '<0100-ses@email.amazonses.com>' }),
      );
      expect(ses.body).toEqual({ received: 1, applied: 1 });
      expect((await memberState(t, id)).status).toBe('bounced');

      await signUp('opptatt@example.no');
      const taken = await request(t.app)
        .patch(`/v1/members/${id}`)
        .set(app())
        .send({ email: 'Opptatt@example.no' });
      expect(taken.status).toBe(409);

      const fixed = await request(t.app)
        .patch(`/v1/members/${id}`)
        .set(app())
        .send({ email: 'ny@example.no' });
      expect(fixed.status).toBe(200);
      expect(fixed.body).toMatchObject({ email: 'ny@example.no', status: 'pending' });
      const mail = await confirmationTo('ny@example.no');
      expect(await state(t)).not.toContain('gammel@example.no');
      // The new address bounces too: a member who had confirmed before is kept, bounced, not deleted.
      expect(await hardBounce(mail.from, 'ny@example.no')).toMatch(/applied/);
      expect((await memberState(t, id)).status).toBe('bounced');
      // Corrected once more and confirmed: active again.
      await request(t.app).patch(`/v1/members/${id}`).set(app()).send({ email: 'riktig@example.no' });
      const confirm = linkIn(
        (await confirmationTo('riktig@example.no')).parsed.text ?? '',
        /\/c\/[A-Za-z0-9_-]+/,
      )!;
      expect((await request(t.app).post(confirm)).status).toBe(200);
      expect((await memberState(t, id)).status).toBe('active');
    });

    it('the guardrail pauses a sending campaign past BOUNCE_PAUSE_RATE or COMPLAINT_PAUSE_RATE, once 200 are sent; resuming is a person’s call', async () => {
      await insertActiveMembers(t, 280, 'vakt');
      const members: Array<{ id: number; email: string }> = await t.c.dataSource.query(
        `SELECT id, email FROM members WHERE email LIKE 'vakt%' ORDER BY id`,
      );
      /** A campaign to all of them, 250 handed to SMTP as a worker would, ten still queued (so it keeps sending). */
      const sendingCampaign = async () => {
        const id = await createCampaign(t);
        expect((await campaignAction(t, id, 'send')).status).toBe(202);
        const rows: Array<{ id: number }> = await t.c.dataSource.query(
          'SELECT id FROM deliveries WHERE campaign_id = ? ORDER BY id',
          [id],
        );
        await t.c.dataSource.query(
          `UPDATE deliveries SET status = 'sent', sent_at = ? WHERE campaign_id = ? AND id <= ?`,
          [toDbTime(new Date()), id, rows[249].id],
        );
        return id;
      };
      const messageId = (campaignId: number, i: number) =>
        `<kk.c${campaignId}.m${members[i].id}@cosmenor.no>`;
      const bounce = (campaignId: number, i: number) =>
        postWebhook(
          t,
          'mailgun',
          mailgunFailed({ recipient: members[i].email, messageId: messageId(campaignId, i) }),
        );

      const id = await sendingCampaign();
      for (let i = 0; i < 12; i++) expect((await bounce(id, i)).body.applied).toBe(1);
      expect(await stats(t, id)).toMatchObject({
        status: 'sending',
        sent: 250,
        bounced: 12,
        pausedReason: null,
      });
      await bounce(id, 12); // 13 of 250 = 5.2 % > 5 %
      expect(await stats(t, id)).toMatchObject({
        status: 'paused',
        bounced: 13,
        pausedReason: 'bounce-rate',
      });

      // A person resumes: the rates start over, so a late bounce of a message sent before does not pause it again.
      expect((await campaignAction(t, id, 'resume')).body).toMatchObject({
        status: 'sending',
        pausedReason: null,
      });
      await bounce(id, 13);
      expect(await stats(t, id)).toMatchObject({ status: 'sending', bounced: 14, pausedReason: null });
      expect((await campaignAction(t, id, 'pause')).body).toMatchObject({
        status: 'paused',
        pausedReason: 'manual',
      });
      await campaignAction(t, id, 'cancel');

      // One complaint in 250 is 0.4 % > 0.3 %.
      const second = await sendingCampaign();
      const complaint = await postWebhook(
        t,
        'ses',
        sesComplaint({ recipient: members[100].email, messageId: messageId(second, 100) }),
      );
      expect(complaint.body).toEqual({ received: 1, applied: 1 });
      expect(await stats(t, second)).toMatchObject({
        status: 'paused',
        complained: 1,
        pausedReason: 'complaint-rate',
      });
      const page = await request(t.app).get('/metrics');
      expect(page.text).toMatch(/kundeklubb_bounce_reports_total\{kind="complaint",source="ses"\} 1/);
      expect(page.text).toMatch(/kundeklubb_campaigns_paused\{reason="complaint-rate"\} 1/);

      // Staff see why, the rates against the limits, and the way on; the members list filters the bounced.
      const staff = await login(t, await staffUser(t, 'admin'));
      const progress = await request(t.app).get(`/admin/campaigns/${second}`).set('Cookie', staff.cookie);
      expect(progress.text).toContain('Pauset automatisk: for mange spamklager');
      expect(progress.text).toMatch(
        /1 mottakere meldte nyhetsbrevet som søppelpost: <strong>0,4 %<\/strong> \(grensen er 0,3 %\)/,
      );
      expect(progress.text).toMatch(/<dt>Kom i retur<\/dt><dd data-stat="bounced">0<\/dd>/);
      expect(progress.text).toMatch(/<dt>Spamklager<\/dt><dd data-stat="complained">1<\/dd>/);
      expect(progress.text).toContain(`action="/admin/campaigns/${second}/resume"`);
      const list = await request(t.app).get('/admin/members?status=bounced').set('Cookie', staff.cookie);
      expect(list.status).toBe(200);
      expect(list.text).toContain(members[0].email);
      expect(list.text).not.toContain(members[30].email);
    });

    it('a provider without its variable answers 404', async () => {
      const res = await request(t.app)
        .post('/webhooks/postmark')
        .send(postmarkBounce({ recipient: 'a@b.no' }));
      expect(res.status).toBe(404);
    });
  },
);
