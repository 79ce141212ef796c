import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { waitUntil } from '../support/club';

/**
 * The after-commit kick of the mail queue (sign-up, rectification, privacy link, import): many
 * sign-ups at once start one sender, not one queue scan each racing for the same rows' leases.
 */
describe.each(databaseKinds())('mail queue kicks on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('30 sign-ups at once: each confirmation sent once, each queue row leased once, the queue empty', async () => {
    const queue = t.c.mailQueue as unknown as { lease(id: number, now: Date): Promise<boolean> };
    const leases = jest.spyOn(queue, 'lease');
    const scans = jest.spyOn(t.c.mailQueue, 'processDue');
    const emails = Array.from({ length: 30 }, (_, i) => `samtidig${i}@example.no`);
    const answers = await Promise.all(
      emails.map((email) =>
        request(t.app)
          .post('/v1/members')
          .set('authorization', `Bearer ${t.tokens.app}`)
          .send(buildSignUp({ email })),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(emails.map(() => 201));
    await waitUntil(async () => emails.every((e) => t.peer.mailsTo(e).length > 0), 20000);
    await t.c.mailQueue.drain();
    expect(emails.map((e) => t.peer.mailsTo(e).length)).toEqual(emails.map(() => 1));
    expect(await t.c.dataSource.query('SELECT id FROM mail_outbox')).toEqual([]);
    // One lease per row (a scan per sign-up would race 30 times for the oldest rows), and the
    // kicks made while the sender ran folded into a few more looks at the queue.
    expect(leases).toHaveBeenCalledTimes(30);
    expect(scans.mock.calls.length).toBeLessThan(15);
    leases.mockRestore();
    scans.mockRestore();
  });
});
