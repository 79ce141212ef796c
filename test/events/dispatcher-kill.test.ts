import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { exited, spawnWorker } from '../support/worker-process';
import { WebhookDispatcher } from '../../src/events/webhook-dispatcher';
import { WebhookSender } from '../../src/events/webhook-sender';
import { execute } from '../../src/db/sql';

describe.each(databaseKinds())('a dispatcher killed mid-delivery on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('SIGKILL of a worker process: every event still delivered, in order per member', async () => {
    // The first requests never get an answer: the worker is mid-delivery when it is killed.
    const got: Array<{ sequence: number; memberId: number; answered: boolean }> = [];
    let hang = true;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const e = JSON.parse(body) as { sequence: number; data: { memberId: number } };
        got.push({ sequence: e.sequence, memberId: e.data.memberId, answered: !hang });
        if (!hang) res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const admin = { authorization: `Bearer ${t.tokens.admin}` };
    const app = { authorization: `Bearer ${t.tokens.app}` };
    await request(t.app)
      .post('/v1/webhooks')
      .set(admin)
      .send({ url, events: ['member.created', 'member.updated'] })
      .expect(201);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await request(t.app).post('/v1/members').set(app).send(buildSignUp())).body.id);
    for (const id of ids) await request(t.app).patch(`/v1/members/${id}`).set(app).send({ firstName: 'Ola' });

    const worker = spawnWorker({ config: t.config, databaseUrl: t.db.url, smtpUrl: t.peer.url });
    const until = Date.now() + 30_000;
    while (got.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(got.length).toBe(3); // one per member: the updates wait behind the created events
    worker.kill('SIGKILL');
    await exited(worker);

    // The killed worker's leases run out (30 s in production; moved to the past here).
    await execute(
      t.c.dataSource,
      "UPDATE webhook_deliveries SET lease_until = '2000-01-01 00:00:00.000' WHERE state = 'pending'",
    );
    hang = false;
    const d = new WebhookDispatcher({
      dataSource: t.c.dataSource,
      events: t.c.events,
      sender: new WebhookSender({ timeoutMs: 2000 }),
      logger: t.c.logger,
      clock: t.c.clock,
    });
    const end = Date.now() + 15_000;
    while (got.filter((g) => g.answered).length < 6 && Date.now() < end) {
      await d.run();
      await new Promise((r) => setTimeout(r, 20));
    }
    await d.stop();
    const answered = got.filter((g) => g.answered);
    expect(answered.length).toBe(6);
    for (const id of ids) {
      const seqs = answered.filter((g) => g.memberId === id).map((g) => g.sequence);
      expect(seqs.length).toBe(2);
      expect(seqs[0]).toBeLessThan(seqs[1]);
    }
    const pending = await execute(
      t.c.dataSource,
      "SELECT id FROM webhook_deliveries WHERE state = 'pending'",
    );
    expect(pending.records).toEqual([]);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }, 60_000);
});
