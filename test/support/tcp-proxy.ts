import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a server (MariaDB): `down()` drops every connection and
 * refuses new ones, as a database restart does, without restarting anything; `up()` listens again
 * on the same port. Cheap enough for the ordinary suite.
 */
export interface TcpProxy {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let server: net.Server | null = null;
  let port = 0;
  const sockets = new Set<net.Socket>();

  const listen = (onPort: number) =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.once('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(onPort, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });

  const down = async () => {
    const s = server;
    server = null;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    await closed;
  };

  await listen(0);
  return {
    get port() {
      return port;
    },
    down,
    async up() {
      if (!server) await listen(port);
    },
    close: down,
  };
}
