import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/**
 * Serves `app` on 127.0.0.1 and a free port in a bench's child process: sends { kind: 'ready',
 * port } to the parent; on { cmd: 'stop' }, SIGTERM or the parent going away, closes, runs
 * `cleanup`, exits.
 */
export async function serveAsChild(app: Express, cleanup: () => Promise<void>): Promise<void> {
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
    await cleanup();
    process.exit(0);
  };
  process.on('message', (m: unknown) => {
    if ((m as { cmd?: string }).cmd === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.send?.({ kind: 'ready', port: (server.address() as AddressInfo).port });
}
