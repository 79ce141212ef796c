import { RateLimiter } from '../../src/delivery/rate-limiter';

/** How many messages go at once, with the limiter's clock standing still. */
async function burst(limiter: RateLimiter, clock: { now: number }): Promise<number> {
  for (let taken = 0; ; taken++) {
    let done = false;
    const take = limiter.take().then(() => void (done = true));
    await new Promise((r) => setTimeout(r, 5));
    if (!done) {
      clock.now += 3_600_000; // let the waiting one go, so nothing is left pending
      await take;
      return taken;
    }
  }
}

describe('RateLimiter (SEND_RATE per worker)', () => {
  it('after a long pause lets at most a tenth of a second of rate through at once', async () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter(100, () => clock.now);
    clock.now = 60_000;
    expect(await burst(limiter, clock)).toBe(10);
  });

  it('follows a new rate at once (the workers sharing SEND_RATE changed)', async () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter(1000, () => clock.now);
    clock.now = 10_000;
    limiter.setRate(20);
    expect(limiter.rate).toBe(20);
    expect(await burst(limiter, clock)).toBe(2);
  });
});
