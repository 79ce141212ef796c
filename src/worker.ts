import type { Logger } from './logger';

/** A background job: `run` is called again `intervalMs` after it finishes; it returns true when there may be more work now. */
export interface Job {
  name: string;
  intervalMs: number;
  run(): Promise<boolean | void>;
  /** Called on shutdown after the loop stopped: finish in-flight work, release claims. */
  stop?(): Promise<void>;
}

/** Runs jobs in loops until stopped. One failing job logs and retries; it never stops the others. */
export class BackgroundWorker {
  private readonly logger: Logger;
  private readonly jobs: Job[];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();

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
    while (this.running) {
      let more = false;
      try {
        more = (await job.run()) === true;
      } catch (err) {
        this.logger.error(
          { job: job.name, err: String((err as Error)?.message ?? err) },
          'job failed; will retry',
        );
      }
      if (!more && this.running) await this.sleep(job.intervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wake of [...this.wakers]) wake();
    await Promise.all(this.loops);
    for (const job of this.jobs) {
      try {
        await job.stop?.();
      } catch (err) {
        this.logger.error({ job: job.name, err: String(err) }, 'job stop failed');
      }
    }
  }
}
