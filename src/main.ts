import type { Server } from 'node:http';
import type { Config } from './config';
import { buildContainer, type Container, type ContainerOverrides } from './container';
import { openDatabase } from './db/data-source';
import { BackgroundWorker } from './worker';
import { backgroundJobs } from './jobs';
import type { BounceListener } from './bounces/bounce-listener';

/**
 * The HTTP app (express, every room's routes and pages) and the bounce listener (smtp-server,
 * mailparser) are loaded only by a process that serves them: a `worker` process never does.
 * `require`, not `import()`: run from source, tsx's CommonJS hook resolves only `require`.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const loadApp = () => require('./app') as typeof import('./app');
const loadBounceListener = () =>
  require('./bounces/bounce-listener') as typeof import('./bounces/bounce-listener');
/* eslint-enable @typescript-eslint/no-require-imports */

export interface Running {
  container: Container;
  server?: Server;
  worker?: BackgroundWorker;
  /** The SMTP listener for bounce reports (api and all, with BOUNCE_DOMAIN set). */
  bounceListener?: BounceListener;
  stop(): Promise<void>;
}

/** Starts what ROLE asks for: the HTTP API, the background worker, or both. */
export async function start(
  config: Config,
  role = config.role,
  overrides: ContainerOverrides = {},
): Promise<Running> {
  const container = buildContainer(config, overrides);
  const { logger } = container;
  const applied = await openDatabase(container.dataSource, (err, attempt, retryInMs) =>
    logger.warn(
      { attempt, retryInMs, err: String((err as Error)?.message ?? err) },
      'database unreachable at start; waiting for it',
    ),
  );
  if (applied.length) logger.info({ migrations: applied }, 'migrations applied');
  if (!config.production && config.publicUrl.startsWith('http:')) {
    logger.info({ publicUrl: config.publicUrl }, 'PUBLIC_URL is http; use https in production (RFC 8058)');
  } else if (config.publicUrl.startsWith('http:')) {
    logger.warn(
      { publicUrl: config.publicUrl },
      'PUBLIC_URL is not https; one-click unsubscribe (RFC 8058) expects https',
    );
  }

  let server: Server | undefined;
  let worker: BackgroundWorker | undefined;
  let bounceListener: BounceListener | undefined;
  if (role === 'worker' || role === 'all') {
    worker = new BackgroundWorker({ logger, jobs: backgroundJobs(container) });
    worker.start();
  }
  if (role === 'api' || role === 'all') {
    const app = loadApp().createApp(container);
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, () => resolve(s));
      s.once('error', reject);
    });
    logger.info({ port: config.port, role }, 'listening');
    if (container.verp) {
      const { BounceListener } = loadBounceListener();
      bounceListener = new BounceListener({
        verp: container.verp,
        apply: (report) => container.bounces.apply(report),
        logger,
        metrics: container.metrics,
      });
      const port = await bounceListener.listen(config.bounces.smtpPort);
      logger.info({ port, domain: container.verp.domain }, 'bounce listener listening');
    }
  } else {
    logger.info({ role }, 'worker started');
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      if (bounceListener) await bounceListener.close();
      if (server) await new Promise<void>((r) => server!.close(() => r()));
      if (worker) await worker.stop();
      await container.close();
    })());
  return { container, server, worker, bounceListener, stop };
}
