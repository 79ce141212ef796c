import { loadConfig } from '../../src/config';
import { buildContainer } from '../../src/container';
import { migrate } from '../../src/db/data-source';
import { createApp } from '../../src/app';
import { serveAsChild } from './child-server';

/**
 * Child process: the service's HTTP app (createApp, no worker) on 127.0.0.1 and a free port,
 * configured from the environment like `kundeklubb serve`. Sends { kind: 'ready', port }; stops
 * on { cmd: 'stop' } or when the parent goes away.
 */
async function main(): Promise<void> {
  const c = buildContainer(loadConfig(process.env));
  await c.dataSource.initialize();
  await migrate(c.dataSource);
  await serveAsChild(createApp(c), () => c.close());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
