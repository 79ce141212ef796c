import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import { waitUntil } from '../support/club';
import { start, type Running } from '../../src/main';
import { createLogger } from '../../src/logger';
import { BackgroundWorker, periodicJob, type Job } from '../../src/worker';

const DAY = 24 * 3600 * 1000;

function capturingLogger() {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', { write: (l: string) => void lines.push(l) }) };
}

describe('BackgroundWorker', () => {
  it('keeps a failing job running: logs each failure, pauses longer each time, and carries on once it works', async () => {
    const { lines, logger } = capturingLogger();
    const calls: number[] = [];
    const job: Job = {
      name: 'flaky',
      intervalMs: 10,
      run: async () => {
        calls.push(Date.now());
        if (calls.length <= 3)
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
      },
    };
    const bg = new BackgroundWorker({ logger, jobs: [job] });
    bg.start();
    await waitUntil(async () => calls.length >= 5, 10000, 5);
    await bg.stop();
    const failures = lines.filter((l) => l.includes('job failed; will retry')).map((l) => JSON.parse(l));
    expect(failures.map((f) => [f.failures, f.retryInMs])).toEqual([
      [1, 500],
      [2, 1000],
      [3, 2000],
    ]);
    // The pauses were kept (a little timer slack aside) and the job recovered.
    expect(calls[1] - calls[0]).toBeGreaterThanOrEqual(490);
    expect(calls[3] - calls[2]).toBeGreaterThanOrEqual(1990);
    expect(lines.some((l) => l.includes('job recovered'))).toBe(true);
  });

  it('interrupts a long run when stopping, then stops the job', async () => {
    const { logger } = capturingLogger();
    let interrupted = false;
    let stopped = false;
    const job: Job = {
      name: 'long',
      intervalMs: 10,
      run: () => waitUntil(async () => interrupted, 10000, 5).then(() => undefined),
      interrupt: () => void (interrupted = true),
      stop: async () => void (stopped = true),
    };
    const bg = new BackgroundWorker({ logger, jobs: [job] });
    bg.start();
    await bg.stop();
    expect([interrupted, stopped]).toEqual([true, true]);
  });
});

describe('periodicJob (daily retention)', () => {
  afterEach(() => jest.useRealTimers());

  it('runs at start, again only once the period has passed on the service clock, and retries a failure after a pause', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') });
    const { lines, logger } = capturingLogger();
    let now = new Date('2026-03-01T04:00:00Z');
    const ran: string[] = [];
    let fail = false;
    const job = periodicJob({
      name: 'retention',
      periodMs: DAY,
      clock: () => now,
      logger,
      task: async (at) => {
        if (fail) throw new Error('connect ECONNREFUSED');
        ran.push(at.toISOString());
      },
    });
    expect(job.intervalMs).toBe(1000);
    await job.run();
    now = new Date(now.getTime() + DAY - 60_000);
    await job.run();
    expect(ran).toEqual(['2026-03-01T04:00:00.000Z']);
    now = new Date(now.getTime() + 60_000);
    fail = true;
    await job.run();
    expect(lines.filter((l) => l.includes('periodic job failed; will retry'))).toHaveLength(1);
    fail = false;
    // Retried after a real pause (1 s), not a day later.
    await job.run();
    expect(ran).toHaveLength(1);
    jest.advanceTimersByTime(1000);
    await job.run();
    expect(ran).toEqual(['2026-03-01T04:00:00.000Z', '2026-03-02T04:00:00.000Z']);
  });
});

describe.each(databaseKinds())('retention runs by itself in `all` and `worker` processes, on %s', (kind) => {
  let t: TestApp;
  let running: Running | undefined;
  let now = new Date('2026-03-01T09:00:00.000Z');
  beforeEach(async () => {
    now = new Date('2026-03-01T09:00:00.000Z');
    t = await startTestApp(kind, { clock: () => now, env: { PORT: '0' } });
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await t?.close();
  });

  it.each(['all', 'worker'] as const)(
    '%s: at start, then daily on the clock: a sign-up left pending 15 days is erased',
    async (role) => {
      const { lines, logger } = capturingLogger();
      const runs = () => lines.filter((l) => l.includes('"msg":"retention run"')).length;
      running = await start(t.config, role, { clock: () => now, logger });
      expect(!!running.server).toBe(role === 'all');
      await waitUntil(async () => runs() === 1, 10000);

      const signedUp = await request(t.app)
        .post('/v1/members')
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send(buildSignUp());
      expect(signedUp.body.status).toBe('pending');
      // 15 days on: the next daily run finds it (the clock moves; no real day passes).
      now = new Date(now.getTime() + 15 * DAY);
      await waitUntil(async () => runs() === 2, 10000);
      expect(await t.c.members.findMember(signedUp.body.id)).toBeNull();
    },
  );
});
