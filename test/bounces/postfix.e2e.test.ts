import nodemailer from 'nodemailer';
import { startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createActiveMembers, createCampaign, stats, waitUntil } from '../support/club';
import { freePort, postfixUnavailable, startPostfix, type PostfixInstance } from '../support/postfix';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';
import { arfComplaint } from './fixtures/reports';
import { mailTo, memberState, startListener } from './helpers';

/**
 * CONTRACT §9 through a real Postfix (issue 16): the service sends a campaign through Postfix with
 * BOUNCE_DOMAIN set; Postfix accepts every recipient, fails those at dead.test itself
 * (`error:5.1.1`) and writes a real RFC 3464 DSN to the VERP address, which it routes to the
 * service's listener; live.test goes to a sink. Then an ARF complaint travels the same way.
 * Where Postfix cannot run the test says why: it fails in CI (CI=true) and is skipped elsewhere.
 */
const unavailable = postfixUnavailable();
const describeWithPostfix = unavailable && process.env.CI !== 'true' ? describe.skip : describe;
if (unavailable && process.env.CI !== 'true')
  console.warn(`postfix end-to-end test skipped: ${unavailable} (it fails in CI)`);

const kind = process.env.TEST_MYSQL_URL ? 'mysql' : 'sqlite';

describeWithPostfix(`bounces through a real Postfix (${kind})`, () => {
  let t: TestApp;
  let postfix: PostfixInstance | undefined;
  let worker: BackgroundWorker;
  let listener: { port: number; close(): Promise<void> };

  beforeAll(async () => {
    if (unavailable) throw new Error(`Postfix cannot run on this machine: ${unavailable}`);
    const postfixPort = await freePort();
    t = await startTestApp(kind, {
      env: {
        DOUBLE_OPT_IN: 'false',
        BOUNCE_DOMAIN: 'bounce.test',
        SMTP_URL: `smtp://127.0.0.1:${postfixPort}`,
        SMTP_POOL_SIZE: '2',
      },
    });
    listener = await startListener(t);
    postfix = await startPostfix({
      port: postfixPort,
      routes: {
        'dead.test': 'error:5.1.1 mailbox unavailable',
        'bounce.test': `smtp:[127.0.0.1]:${listener.port}`,
        'live.test': `smtp:[127.0.0.1]:${t.peer.port}`,
      },
    });
    worker = new BackgroundWorker({
      logger: t.c.logger,
      jobs: [createDeliveryWorker(t.c, { retryBaseMs: 200, housekeepingMs: 100 })],
    });
    worker.start();
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await postfix?.stop();
    await listener?.close();
    await t?.close();
  });

  /**
   * Active members at `domain` (the domain decides Postfix's route), with the prefix as partner id,
   * so each test sends to its own members only and the tests pass in any order.
   */
  const membersAt = async (prefix: string, n: number, domain: string) =>
    (
      await createActiveMembers(t, n, prefix, (i) => ({
        email: `${prefix}${i}@${domain}`,
        partnerId: prefix,
      }))
    ).map((m, i) => ({
      id: m.id,
      email: `${prefix}${i}@${domain}`,
    }));

  const sendAndWait = async (subject: string, partnerIds: string[]) => {
    const id = await createCampaign(t, { subject, name: subject, audience: { partnerIds } });
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
    await waitUntil(async () => (await stats(t, id)).status === 'sent', 30_000);
    return id;
  };

  it('Postfix’s own DSNs make the dead addresses bounced; the others get the newsletter once; the stats match', async () => {
    const deadAt = await membersAt('borte', 3, 'dead.test');
    const live = await membersAt('her', 5, 'live.test');

    const id = await sendAndWait('Gjennom Postfix', ['borte', 'her']);
    await waitUntil(
      async () =>
        (await Promise.all(deadAt.map((m) => memberState(t, m.id)))).every((s) => s.status === 'bounced'),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- postfix log ---\n${postfix!.log().slice(-3000)}`);
    });
    for (const m of deadAt)
      expect((await memberState(t, m.id)).events.find((e) => e.type === 'bounced')?.code).toBe('5.1.1');
    // Postfix relays to the sink after the worker's handoff: wait for the last one to arrive.
    await t.peer.waitFor(() => live.every((m) => t.peer.mailsTo(m.email).length > 0), 20_000);
    for (const m of live) {
      const got = t.peer.mailsTo(m.email).filter((mail) => mail.parsed.subject === 'Gjennom Postfix');
      expect(got).toHaveLength(1);
      expect(got[0].from).toMatch(/^b-d[0-9a-z]+-[a-z2-7]{16}@bounce\.test$/);
    }
    expect(await stats(t, id)).toMatchObject({
      status: 'sent',
      total: 8,
      sent: 8,
      failed: 0,
      bounced: 3,
      complained: 0,
    });
    expect(postfix!.log()).toMatch(/dsn=5\.1\.1, status=bounced/);
  });

  it('an ARF complaint sent through Postfix ends the membership at once: erased, nothing mailed after', async () => {
    const [complainer, other] = await membersAt('klager', 2, 'live.test');
    await sendAndWait('Før klagen', ['klager']);
    const mail = await mailTo(t, complainer.email, 'Før klagen');

    const relay = nodemailer.createTransport({
      host: '127.0.0.1',
      port: postfix!.port,
      secure: false,
      ignoreTLS: true,
    });
    await relay.sendMail({
      envelope: { from: 'fbl@mailbox.test', to: mail.from },
      raw: arfComplaint({ to: mail.from, returnPath: mail.from, recipient: complainer.email }),
    });
    relay.close();
    await waitUntil(async () => (await memberState(t, complainer.id)).status === 'unsubscribed', 30_000);
    const state = await memberState(t, complainer.id);
    expect(state.email).toBeNull();
    expect(state.events.at(-1)).toMatchObject({ type: 'withdrawal', channel: 'complaint' });

    await sendAndWait('Etter klagen', ['klager']);
    await t.peer.waitFor(
      () => t.peer.mailsTo(other.email).some((m) => m.parsed.subject === 'Etter klagen'),
      20_000,
    );
    expect(t.peer.mailsTo(complainer.email).filter((m) => m.parsed.subject === 'Etter klagen')).toHaveLength(
      0,
    );
    expect(t.peer.mailsTo(other.email).filter((m) => m.parsed.subject === 'Etter klagen')).toHaveLength(1);
  });
});
