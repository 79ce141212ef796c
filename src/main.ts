import type { Server } from 'node:http';
import type { Config } from './config';
import { buildContainer, type Container, type ContainerOverrides } from './container';
import { migrate } from './db/data-source';
import { createApp } from './app';
import { BackgroundWorker } from './worker';
import { backgroundJobs } from './jobs';

export interface Running {
  container: Container;
  server?: Server;
  worker?: BackgroundWorker;
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
  await container.dataSource.initialize();
  const applied = await migrate(container.dataSource);
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
  if (role === 'worker' || role === 'all') {
    worker = new BackgroundWorker({ logger, jobs: backgroundJobs(container) });
    worker.start();
  }
  if (role === 'api' || role === 'all') {
    const app = createApp(container);
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, () => resolve(s));
      s.once('error', reject);
    });
    logger.info({ port: config.port, role }, 'listening');
  } else {
    logger.info({ role }, 'worker started');
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      if (server) await new Promise<void>((r) => server!.close(() => r()));
      if (worker) await worker.stop();
      await container.close();
    })());
  return { container, server, worker, stop };
}
