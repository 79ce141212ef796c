import type { Container } from './container';
import type { Job } from './worker';

/** The background jobs a worker process runs. */
export function backgroundJobs(c: Container): Job[] {
  return [
    {
      name: 'outbox',
      intervalMs: 1000,
      run: async () => (await c.outbox.processDue(50)) >= 50,
      stop: () => c.outbox.drain(),
    },
  ];
}
