import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config';
import { buildContainer } from '../../src/container';
import { migrate } from '../../src/db/data-source';
import { createApp } from '../../src/app';

/**
 * Child process: the service's HTTP app (createApp, no worker) on 127.0.0.1 and a free port,
 * configured from the environment like `kundeklubb serve`. Sends { kind: 'ready', port }; stops
 * on { cmd: 'stop' } or when the parent goes away.
 */
async function main(): Promise<void> {
  const c = buildContainer(loadConfig(process.env));
  await c.dataSource.initialize();
  await migrate(c.dataSource);
  const app = createApp(c);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await c.close();
    process.exit(0);
  };
  process.on('message', (m: unknown) => {
    if ((m as { cmd?: string }).cmd === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.send?.({ kind: 'ready', port: (server.address() as AddressInfo).port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
