import type { Logger } from './logger';
import type { Clock } from './db/time';

/** A background job: `run` is called again `intervalMs` after it finishes; it returns true when there may be more work now. */
export interface Job {
  name: string;
  intervalMs: number;
  run(): Promise<boolean | void>;
  /** Called when stopping begins: a long `run` should return soon (no new work taken). */
  interrupt?(): void;
  /** Called on shutdown after the loop stopped: finish in-flight work, release claims. */
  stop?(): Promise<void>;
}

/** Waits that end after their time, or all at once when something happened (stop, a renewal). */
export class Pause {
  private readonly waiting = new Set<() => void>();

  for(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.waiting.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.waiting.add(end);
    });
  }

  endAll(): void {
    for (const end of [...this.waiting]) end();
  }
}

/** After a failed run: 0.5 s, doubling to 5 s, so a database outage is neither hammered nor waited out for long. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5_000;

/**
 * Runs jobs in loops until stopped. A failing run is logged and tried again after a growing
 * pause; it never stops the loop or the other jobs, and nothing it throws reaches the process.
 */
export class BackgroundWorker {
  private readonly logger: Logger;
  private readonly jobs: Job[];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly pause = new Pause();

  constructor(deps: { logger: Logger; jobs: Job[] }) {
    this.logger = deps.logger;
    this.jobs = deps.jobs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = this.jobs.map((job) => this.loop(job));
  }

  private async loop(job: Job): Promise<void> {
    let failures = 0;
    while (this.running) {
      let more = false;
      let pauseMs = job.intervalMs;
      try {
        more = (await job.run()) === true;
        if (failures > 0) this.logger.info({ job: job.name, failures }, 'job recovered');
        failures = 0;
      } catch (err) {
        failures++;
        pauseMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failures - 1));
        this.logger.error(
          { job: job.name, failures, retryInMs: pauseMs, err: String((err as Error)?.message ?? err) },
          'job failed; will retry',
        );
      }
      if (!more && this.running) await this.pause.for(pauseMs);
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const job of this.jobs) job.interrupt?.();
    this.pause.endAll();
    await Promise.all(this.loops);
    for (const job of this.jobs) {
      try {
        await job.stop?.();
      } catch (err) {
        this.logger.error({ job: job.name, err: String((err as Error)?.message ?? err) }, 'job stop failed');
      }
    }
  }
}

/**
 * A job that runs `task` once at start and again whenever `periodMs` has passed on `clock` (the
 * service's clock, so a test can move it). It looks every `pollMs`, which costs a comparison. A
 * failed run is logged and tried again after a real-time pause (1 s, doubling to `periodMs`).
 */
export function periodicJob(opts: {
  name: string;
  periodMs: number;
  clock: Clock;
  logger: Logger;
  pollMs?: number;
  task: (now: Date) => Promise<unknown>;
}): Job {
  let dueAt = -Infinity;
  let failures = 0;
  let retryAt = 0;
  return {
    name: opts.name,
    intervalMs: opts.pollMs ?? 1000,
    async run() {
      const now = opts.clock();
      if (failures > 0 ? Date.now() < retryAt : now.getTime() < dueAt) return;
      try {
        await opts.task(now);
        failures = 0;
        dueAt = now.getTime() + opts.periodMs;
      } catch (err) {
        failures++;
        const waitMs = Math.min(opts.periodMs, 1000 * 2 ** (failures - 1));
        retryAt = Date.now() + waitMs;
        opts.logger.error(
          { job: opts.name, failures, retryInMs: waitMs, err: String((err as Error)?.message ?? err) },
          'periodic job failed; will retry',
        );
      }
    },
  };
}
