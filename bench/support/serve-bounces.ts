import { loadConfig } from '../../src/config';
import { buildContainer } from '../../src/container';
import { migrate } from '../../src/db/data-source';
import { createApp } from '../../src/app';
import { BounceListener } from '../../src/bounces/bounce-listener';
import { serveAsChild } from './child-server';

/**
 * Child process: what an `api` process runs for bounces: the HTTP app (with the provider webhooks)
 * and the SMTP bounce listener, both on 127.0.0.1 and free ports, configured from the environment
 * (BOUNCE_DOMAIN must be set). Sends { kind: 'smtp', port }, then { kind: 'ready', port } for HTTP.
 */
async function main(): Promise<void> {
  const c = buildContainer(loadConfig(process.env));
  await c.dataSource.initialize();
  await migrate(c.dataSource);
  if (!c.verp) throw new Error('BOUNCE_DOMAIN is not set');
  const listener = new BounceListener({
    verp: c.verp,
    apply: (report) => c.bounces.apply(report),
    logger: c.logger,
    metrics: c.metrics,
  });
  process.send?.({ kind: 'smtp', port: await listener.listen(0, '127.0.0.1') });
  await serveAsChild(createApp(c), async () => {
    await listener.close();
    await c.close();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
