import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import {
  campaignAction,
  createCampaign,
  insertActiveMembers,
  runDeliveryWorker,
  stats,
  waitUntil,
} from '../support/club';
import type { BackgroundWorker } from '../../src/worker';

const STACK_FRAME = /\bat \S+ \(|\.ts:\d+|\.js:\d+|node_modules/;

/**
 * CONTRACT §3: never a stack trace, never an e-mail address in a log line. A forced 5xx answers
 * problem+json without either; the failures the worker and the mail queue log (SMTP replies
 * quoting the mailbox, a database that is away) name no address either.
 */
describe.each(databaseKinds())('failures without stacks or addresses on %s', (kind) => {
  let t: TestApp;
  let bg: BackgroundWorker | undefined;
  beforeEach(async () => {
    t = await startTestApp(kind);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await bg?.stop();
    bg = undefined;
    await t?.close();
  });

  it('a forced 500 and a database outage answer problem+json with no stack and no address', async () => {
    const address = 'skjult.person@example.no';
    const failure = new Error(`Duplicate entry '${address}' for key 'email'`);
    jest.spyOn(t.c.members, 'list').mockRejectedValueOnce(failure);
    const from = t.logs.length;
    const r = await request(t.app).get('/v1/members').set('authorization', `Bearer ${t.tokens.read}`);
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.body).toEqual({
      type: 'https://kundeklubb.cosmenor.no/problems/internal',
      title: 'Internal server error',
      status: 500,
      detail: 'Something went wrong; it has been logged',
      errors: [],
    });
    expect(r.text).not.toMatch(STACK_FRAME);
    expect(r.text).not.toContain(address);

    const outage = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:3306 (${address})`), {
      code: 'ECONNREFUSED',
    });
    jest.spyOn(t.c.members, 'list').mockRejectedValueOnce(outage);
    const away = await request(t.app).get('/v1/members').set('authorization', `Bearer ${t.tokens.read}`);
    expect(away.status).toBe(503);
    expect(away.headers['retry-after']).toBe('5');
    expect(away.body).toMatchObject({ status: 503, title: 'Service unavailable' });
    expect(away.text).not.toMatch(STACK_FRAME);
    expect(away.text).not.toMatch(/ECONNREFUSED|example\.no/);
    expect(t.logs.slice(from).join('\n')).not.toContain(address);
  });

  it('the worker and the mail queue log refused and failing mail without the address', async () => {
    await insertActiveMembers(t, 2, 'logg');
    const [refused, later] = ['logg0@example.no', 'logg1@example.no'];
    t.peer.behave((rcpt) => {
      if (rcpt === refused) return { code: 550, message: `5.1.1 <${rcpt}>: Recipient address rejected` };
      if (rcpt === later) return { code: 450, message: `4.2.1 <${rcpt}>: mailbox busy` };
      return { code: 550, message: `5.1.1 <${rcpt}>: no such user` };
    });
    const from = t.logs.length;
    bg = runDeliveryWorker(t.c, { housekeepingMs: 100, retryBaseMs: 60_000 }).bg;
    const id = await createCampaign(t);
    await campaignAction(t, id, 'send');
    await waitUntil(async () => {
      const s = await stats(t, id);
      return s.failed === 1 && s.queued === 1;
    }, 20000);
    // A confirmation mail the relay refuses: the mail queue gives up on it, and logs why.
    const signedUp = await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp({ email: 'bekreft.meg@example.no' }));
    expect(signedUp.status).toBe(201);
    await t.c.mailQueue.drain();

    const lines = t.logs.slice(from);
    const failed = lines.filter((l) => l.includes('delivery failed'));
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]).error).toMatch(/^.*<recipient>: Recipient address rejected/);
    const queue = lines.filter((l) => l.includes('transactional mail given up'));
    expect(queue).toHaveLength(1);
    expect(JSON.parse(queue[0])).toMatchObject({ memberId: signedUp.body.id, kind: 'confirmation' });
    expect(JSON.parse(queue[0]).error).toContain('<recipient>');
    const all = lines.join('\n');
    for (const address of [refused, later, 'bekreft.meg@example.no']) expect(all).not.toContain(address);
    expect(all).not.toMatch(/[\w.+-]+@example\.no/);
  });
});
