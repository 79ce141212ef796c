/**
 * Token bucket: `take()` resolves when a message may go. The rate can change at run time
 * (SEND_RATE is shared between the live workers). The burst is a tenth of a second of rate (at
 * least one message): enough to ride out timer granularity at high rates, small enough that a
 * worker catching up after a pause (a claim, a slow relay) cannot push the rate over SEND_RATE
 * by more than a few per cent over any few seconds.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private ratePerSec: number;

  constructor(
    ratePerSec: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.ratePerSec = ratePerSec;
    this.tokens = Math.min(1, ratePerSec);
    this.last = now();
  }

  setRate(ratePerSec: number): void {
    this.refill();
    this.ratePerSec = Math.max(0.1, ratePerSec);
    this.tokens = Math.min(this.tokens, this.burst());
  }

  get rate(): number {
    return this.ratePerSec;
  }

  private burst(): number {
    return Math.max(1, this.ratePerSec / 10);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst(), this.tokens + ((t - this.last) / 1000) * this.ratePerSec);
    this.last = t;
  }

  /**
   * Resolves true when a message may go; false, without using a token, once `signal` aborts (its
   * campaign was paused or cancelled while the message waited for its turn).
   */
  async take(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return true;
      }
      const waitMs = ((1 - this.tokens) / this.ratePerSec) * 1000;
      await wait(Math.max(1, Math.ceil(waitMs)), signal);
    }
  }
}

/** Sleeps `ms`, or less when `signal` aborts first. */
function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
