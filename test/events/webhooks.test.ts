import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { WebhookDispatcher } from '../../src/events/webhook-dispatcher';
import { WebhookSender } from '../../src/events/webhook-sender';
import { WebhooksService } from '../../src/events/webhooks.service';
import { execute } from '../../src/db/sql';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A local receiver whose answer each test decides. */
async function startReceiver(answer: (n: number, body: string) => number | 'hang' | 'redirect') {
  const received: Received[] = [];
  const redirected: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/elsewhere') {
        redirected.push(body);
        res.writeHead(200).end();
        return;
      }
      received.push({ headers: req.headers, body, at: Date.now() });
      const a = answer(received.length, body);
      if (a === 'hang') return;
      if (a === 'redirect') res.writeHead(307, { location: '/elsewhere' }).end();
      else res.writeHead(a).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    redirected,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe.each(databaseKinds())('webhooks on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const admin = () => ({ authorization: `Bearer ${t.tokens.admin}` });
  const app = () => ({ authorization: `Bearer ${t.tokens.app}` });
  const create = (body: unknown) =>
    request(t.app)
      .post('/v1/webhooks')
      .set(admin())
      .send(body as object);
  const endpoints = async () =>
    (await execute(t.c.dataSource, 'SELECT * FROM webhook_endpoints')).records.length;
  const dispatcher = (
    opts: Partial<ConstructorParameters<typeof WebhookDispatcher>[0]['options']> = {},
    timeoutMs = 300,
  ) =>
    new WebhookDispatcher({
      dataSource: t.c.dataSource,
      events: t.c.events,
      sender: new WebhookSender({ timeoutMs }),
      logger: t.c.logger,
      clock: t.c.clock,
      options: { retryScheduleMs: [50, 100], leaseMs: 2000, ...opts },
    });
  async function runUntil(d: WebhookDispatcher, done: () => boolean, ms = 8000) {
    const end = Date.now() + ms;
    while (!done() && Date.now() < end) {
      await d.run();
      await new Promise((r) => setTimeout(r, 20));
    }
    await d.stop();
  }

  it('creates (secret once), lists without the secret, deletes; admin only', async () => {
    const r = await create({
      url: 'https://app.example.no/hooks',
      events: ['member.erased'],
      sources: ['osme-mobile'],
    });
    expect(r.status).toBe(201);
    expect(r.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    expect(r.body).toMatchObject({
      url: 'https://app.example.no/hooks',
      events: ['member.erased'],
      sources: ['osme-mobile'],
    });
    const list = await request(t.app).get('/v1/webhooks').set(admin());
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(r.body.secret);
    expect(t.logs.join('\n')).not.toContain(r.body.secret);
    expect(list.body.items.map((w: { id: number }) => w.id)).toContain(r.body.id);
    expect(
      (await request(t.app).get('/v1/webhooks').set('authorization', `Bearer ${t.tokens.app}`)).status,
    ).toBe(403);
    expect((await request(t.app).delete(`/v1/webhooks/${r.body.id}`).set(admin())).status).toBe(204);
    expect((await request(t.app).delete(`/v1/webhooks/${r.body.id}`).set(admin())).status).toBe(404);
  });

  it('refuses bad input with 400/422 problem+json and stores nothing', async () => {
    const before = await endpoints();
    const bad: Array<[unknown, number]> = [
      [{ url: 'https://a.example.no', events: ['member.exploded'] }, 422],
      [{ url: 'not a url', events: ['member.erased'] }, 422],
      [{ url: 'file:///etc/passwd', events: ['member.erased'] }, 422],
      [{ url: 'ftp://a.example.no/x', events: ['member.erased'] }, 422],
      [{ url: 'https://a.example.no', events: Array.from({ length: 10_000 }, () => 'member.erased') }, 422],
      [{ url: 'https://a.example.no', events: [] }, 422],
      [{ url: 'https://a.example.no', events: ['member.erased'], secret: 'mine' }, 400],
      [[1, 2], 400],
    ];
    for (const [body, status] of bad) {
      const r = await create(body);
      expect([r.status, body]).toEqual([status, body]);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(await endpoints()).toBe(before);
  });

  it('delivers signed events (verified by standardwebhooks), retries with the same id, 410 disables', async () => {
    let fail = 2;
    const rx = await startReceiver((n) => (n <= fail ? 503 : n === 4 ? 410 : 200));
    const r = await create({ url: rx.url, events: ['member.created', 'member.updated'] });
    const member = await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp({ externalId: 'ext-1' }));
    const d = dispatcher();
    await runUntil(d, () => rx.received.length >= 3);
    expect(rx.received.length).toBe(3);
    const wh = new Webhook(r.body.secret);
    const ids = rx.received.map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(1);
    const payload = wh.verify(rx.received[2].body, {
      'webhook-id': String(rx.received[2].headers['webhook-id']),
      'webhook-timestamp': String(rx.received[2].headers['webhook-timestamp']),
      'webhook-signature': String(rx.received[2].headers['webhook-signature']),
    }) as { type: string; sequence: number; data: Record<string, unknown> };
    expect(payload.type).toBe('member.created');
    expect(payload.data).toEqual({
      memberId: member.body.id,
      externalId: 'ext-1',
      source: 'osme-mobile',
      status: 'pending',
    });
    expect(() =>
      new Webhook(`whsec_${Buffer.from('another-key-another-key-another-k').toString('base64')}`).verify(
        rx.received[2].body,
        {
          'webhook-id': String(rx.received[2].headers['webhook-id']),
          'webhook-timestamp': String(rx.received[2].headers['webhook-timestamp']),
          'webhook-signature': String(rx.received[2].headers['webhook-signature']),
        },
      ),
    ).toThrow();
    // The retry waits grow: 50 ms, then 100 ms.
    expect(rx.received[1].at - rx.received[0].at).toBeGreaterThanOrEqual(45);
    expect(rx.received[2].at - rx.received[1].at).toBeGreaterThanOrEqual(95);

    fail = 0;
    await request(t.app)
      .patch(`/v1/members/${member.body.id}`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ firstName: 'Ola' });
    await request(t.app)
      .patch(`/v1/members/${member.body.id}`)
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send({ firstName: 'Per' });
    const d2 = dispatcher();
    await runUntil(d2, () => rx.received.length >= 4);
    await new Promise((res) => setTimeout(res, 200));
    await d2.run();
    await d2.stop();
    expect(rx.received.length).toBe(4); // 410 on the 4th: disabled at once, the 5th never sent
    const list = await request(t.app).get('/v1/webhooks').set(admin());
    const ep = list.body.items.find((w: { id: number }) => w.id === r.body.id);
    expect(ep).toMatchObject({ disabledReason: 'gone', lastResult: '410' });
    expect(ep.disabledAt).not.toBeNull();
    await request(t.app).delete(`/v1/webhooks/${r.body.id}`).set(admin());
    await rx.close();
  });

  it('follows no redirect, times out, and disables after the failure period', async () => {
    const rx = await startReceiver((n) => (n === 1 ? 'redirect' : 'hang'));
    const r = await create({ url: rx.url, events: ['member.created'] });
    await request(t.app)
      .post('/v1/members')
      .set('authorization', `Bearer ${t.tokens.app}`)
      .send(buildSignUp());
    const d = dispatcher({ disableAfterMs: 600 });
    await runUntil(d, () => rx.received.length >= 3);
    await new Promise((res) => setTimeout(res, 800));
    await runUntil(d, () => false, 1500);
    expect(rx.redirected).toEqual([]);
    const ep = (await request(t.app).get('/v1/webhooks').set(admin())).body.items.find(
      (w: { id: number }) => w.id === r.body.id,
    );
    expect(ep.disabledReason).toBe('failing');
    expect(['timeout', '307']).toContain(ep.lastResult);
    await request(t.app).delete(`/v1/webhooks/${r.body.id}`).set(admin());
    await rx.close();
  });

  it('keeps order per member: a later event waits while an earlier one is retried; others go on', async () => {
    let held = -1;
    let failures = 0;
    const rx = await startReceiver((_n, body) => {
      const e = JSON.parse(body) as { sequence: number };
      if (e.sequence === held && failures < 2) {
        failures++;
        return 500;
      }
      return 200;
    });
    const r = await create({ url: rx.url, events: ['member.created', 'member.updated'] });
    const signUpOne = async () =>
      (await request(t.app).post('/v1/members').set(app()).send(buildSignUp())).body.id as number;
    const a = await signUpOne();
    held = (await t.c.events.lastSequence()) as number;
    const b = await signUpOne();
    for (const id of [a, b, a])
      await request(t.app).patch(`/v1/members/${id}`).set(app()).send({ firstName: 'X' });
    const d = dispatcher({ retryScheduleMs: [150, 150] });
    await runUntil(d, () => rx.received.length >= 7);
    const got = rx.received.map(
      (x) => JSON.parse(x.body) as { sequence: number; data: { memberId: number } },
    );
    expect(got.length).toBe(7);
    // a's first event failed twice; a's later ones came only after it, b's went on meanwhile.
    const firstOk = got.findIndex((g, i) => g.sequence === held && i >= 2);
    const aLater = got
      .map((g, i) => (g.data.memberId === a && g.sequence !== held ? i : -1))
      .filter((i) => i >= 0);
    const bAll = got.map((g, i) => (g.data.memberId === b ? i : -1)).filter((i) => i >= 0);
    expect(aLater.every((i) => i > firstOk)).toBe(true);
    expect(bAll.some((i) => i < firstOk)).toBe(true);
    for (const id of [a, b]) {
      const seqs = got
        .filter((g, i) => g.data.memberId === id && !(g.sequence === held && i < firstOk))
        .map((g) => g.sequence);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    }
    const test = await request(t.app).post(`/v1/webhooks/${r.body.id}/test`).set(admin());
    expect(test.body).toMatchObject({ ok: true, status: 200 });
    expect(rx.received.at(-1)!.body).toContain('webhook.test');
    await request(t.app).delete(`/v1/webhooks/${r.body.id}`).set(admin());
    await rx.close();
  });

  it('two dispatchers at once send no event twice', async () => {
    const rx = await startReceiver(() => 200);
    const r = await create({ url: rx.url, events: ['member.created'] });
    await Promise.all(
      Array.from({ length: 30 }, () => request(t.app).post('/v1/members').set(app()).send(buildSignUp())),
    );
    // A timeout would make a retry (a second delivery that is allowed); here every answer is a 200,
    // so a long timeout (and a lease that outlasts it) leaves only the question asked: does a
    // claimed event go out twice at once?
    const d1 = dispatcher({ leaseMs: 30_000 }, 10_000);
    const d2 = dispatcher({ leaseMs: 30_000 }, 10_000);
    await Promise.all([
      runUntil(d1, () => rx.received.length >= 30),
      runUntil(d2, () => rx.received.length >= 30),
    ]);
    await new Promise((res) => setTimeout(res, 200));
    await Promise.all([d1.run(), d2.run()]);
    await Promise.all([d1.stop(), d2.stop()]);
    const ids = rx.received.map((x) => String(x.headers['webhook-id']));
    expect(ids.length).toBe(30);
    expect(new Set(ids).size).toBe(30);
    await request(t.app).delete(`/v1/webhooks/${r.body.id}`).set(admin());
    await rx.close();
  });

  it('requires https in production', async () => {
    const prod = new WebhooksService({
      dataSource: t.c.dataSource,
      events: t.c.events,
      sender: new WebhookSender(),
      production: true,
      logger: t.c.logger,
      clock: t.c.clock,
    });
    const before = await endpoints();
    await expect(
      prod.create({ url: 'http://app.example.no/h', events: ['member.erased'] }),
    ).rejects.toMatchObject({
      status: 422,
    });
    expect(await endpoints()).toBe(before);
  });

  it('an endpoint that hangs does not hold up another', async () => {
    const dead = await startReceiver(() => 'hang');
    const live = await startReceiver(() => 200);
    const a = await create({ url: dead.url, events: ['member.created'] });
    const b = await create({ url: live.url, events: ['member.created'] });
    for (let i = 0; i < 25; i++) await request(t.app).post('/v1/members').set(app()).send(buildSignUp());
    const d = new WebhookDispatcher({
      dataSource: t.c.dataSource,
      events: t.c.events,
      sender: new WebhookSender({ timeoutMs: 5000 }),
      logger: t.c.logger,
      clock: t.c.clock,
      options: { perEndpoint: 4 },
    });
    const started = Date.now();
    const end = started + 4000;
    while (live.received.length < 25 && Date.now() < end) {
      await d.run();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(live.received.length).toBe(25);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(dead.received.length).toBe(4); // at most perEndpoint requests in flight to the dead one
    await dead.close();
    await d.stop();
    for (const w of [a, b]) await request(t.app).delete(`/v1/webhooks/${w.body.id}`).set(admin());
    await live.close();
  });
});
