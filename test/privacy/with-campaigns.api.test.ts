import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, dumpAllTables, startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createCampaign, stats, waitUntil } from '../support/club';
import { createDeliveryWorker } from '../../src/jobs';
import { BackgroundWorker } from '../../src/worker';
import { linkFromMail, PRIVACY_RE, signUp, uniquePerson, unsubscribePath } from './helpers';

/** The rights where they meet the delivery engine: what was sent shows in the export; erased and restricted people get nothing. */
describe.each(databaseKinds())('privacy and newsletters on %s', (kind) => {
  let t: TestApp;
  let worker: BackgroundWorker;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
    worker = new BackgroundWorker({
      logger: t.c.logger,
      jobs: [createDeliveryWorker(t.c, { retryBaseMs: 100, housekeepingMs: 100 })],
    });
    worker.start();
  });
  afterAll(async () => {
    await worker?.stop();
    await t?.close();
  });

  const privacy = () => ({ authorization: `Bearer ${t.tokens.privacy}` });
  const member = async (p: Record<string, string>) => (await signUp(t, buildSignUp(p))).body.id as number;
  const sendAndWait = async (subject: string) => {
    const id = await createCampaign(t, { subject, name: subject });
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
    return waitUntil(async () => {
      const s = await stats(t, id);
      return s.status === 'sent' && s;
    }, 30000);
  };
  const received = (email: string, subject: string) =>
    t.peer.mailsTo(email).filter((m) => m.parsed.subject === subject).length;

  it('exports what was sent when, erases without trace, and then sends nothing to the erased or the restricted', async () => {
    const kept = uniquePerson('mottaker');
    const erased = uniquePerson('slettes');
    const restricted = uniquePerson('begrenset');
    const keptId = await member(kept);
    const erasedId = await member(erased);
    const restrictedId = await member(restricted);

    await sendAndWait('Første nyhetsbrev');
    await sendAndWait('Andre nyhetsbrev');

    const doc = (await request(t.app).get(`/v1/members/${erasedId}/export`).set(privacy())).body;
    expect(doc.deliveries).toHaveLength(2);
    expect(doc.deliveries.map((d: { subject: string }) => d.subject)).toEqual([
      'Første nyhetsbrev',
      'Andre nyhetsbrev',
    ]);
    for (const d of doc.deliveries) expect(Date.parse(d.sentAt)).not.toBeNaN();

    // The person sees the same on their privacy page, in Norwegian.
    await request(t.app)
      .post(`${unsubscribePath(t, keptId)}/privacy-link`)
      .type('form')
      .send('');
    const page = await request(t.app).get(await linkFromMail(t, kept.email, PRIVACY_RE));
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/Nyhetsbrev sendt til deg/);
    expect(page.text).toMatch(/<th scope="col"[^>]*>Emne<\/th>/);
    expect(page.text).toContain('Første nyhetsbrev');
    expect(page.text).toContain('Andre nyhetsbrev');

    expect((await request(t.app).delete(`/v1/members/${erasedId}`).set(privacy())).status).toBe(204);
    expect(
      (
        await request(t.app)
          .post(`/v1/members/${restrictedId}/restrict`)
          .set(privacy())
          .send({ restricted: true })
      ).status,
    ).toBe(200);
    const dump = await dumpAllTables(t.c);
    for (const value of Object.values(erased)) expect(dump).not.toContain(value);
    expect(
      await t.c.dataSource.query('SELECT 1 AS x FROM deliveries WHERE member_id = ?', [erasedId]),
    ).toHaveLength(0);

    // The erased address signs up again (fresh consent): pending, so still nothing until confirmed.
    expect((await signUp(t, buildSignUp(erased))).body.status).toBe('pending');
    await sendAndWait('Tredje nyhetsbrev');
    expect(received(kept.email, 'Tredje nyhetsbrev')).toBe(1);
    expect(received(erased.email, 'Tredje nyhetsbrev')).toBe(0);
    expect(received(restricted.email, 'Tredje nyhetsbrev')).toBe(0);
    expect(received(restricted.email, 'Andre nyhetsbrev')).toBe(1);
  });
});
