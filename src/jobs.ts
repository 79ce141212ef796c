import type { Container } from './container';
import { DeliveryWorker } from './delivery/delivery.worker';
import { periodicJob, type Job } from './worker';
import { WebhookDispatcher } from './events/webhook-dispatcher';

/** Builds the delivery worker of this process from the configuration. */
export function createDeliveryWorker(
  c: Container,
  overrides: Partial<ConstructorParameters<typeof DeliveryWorker>[0]['options']> = {},
): DeliveryWorker {
  const worker = new DeliveryWorker({
    store: c.deliveryStore,
    campaigns: c.sending,
    recipients: (ids) => c.members.recipients(ids),
    handoffs: c.handoffs,
    tokens: c.tokens,
    mailer: c.mailer,
    logger: c.logger,
    clock: c.clock,
    metrics: c.metrics,
    options: {
      // Twice the pool's connections: while one message is re-checked, another waits on each connection.
      concurrency: c.config.smtpPoolSize * 2,
      sendRate: c.config.sendRate,
      publicUrl: c.config.publicUrl,
      mailFrom: c.config.mailFrom,
      leaseMs: c.config.delivery.leaseMs,
      retryBaseMs: c.config.delivery.retryBaseMs,
      maxAttempts: c.config.delivery.maxAttempts,
      ...overrides,
    },
  });
  return worker;
}

/** The background jobs a worker process runs. */
export function backgroundJobs(c: Container): Job[] {
  return [
    createDeliveryWorker(c),
    {
      name: 'mail-queue',
      intervalMs: 1000,
      run: async () => (await c.mailQueue.processDue(50)) >= 50,
      stop: () => c.mailQueue.drain(),
    },
    new WebhookDispatcher({
      dataSource: c.dataSource,
      events: c.events,
      sender: c.webhookSender,
      logger: c.logger,
      clock: c.clock,
    }),
    // Once at start, then whenever a day has passed on the service's clock; a failed run (the
    // database away) is tried again after a pause. Every task is idempotent, so several workers
    // running it is harmless.
    periodicJob({
      name: 'retention',
      periodMs: 24 * 3600 * 1000,
      clock: c.clock,
      logger: c.logger,
      task: (now) => c.retention.run(now),
    }),
  ];
}
