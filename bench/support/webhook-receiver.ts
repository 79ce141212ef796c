import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * Child process: an app's webhook receiver for bench/webhooks.ts, on 127.0.0.1 and a free port.
 * Each POST is verified with `standardwebhooks` (as the README's receiver example does), recorded
 * when its headers arrive, held HOLD_MS (the app's own work), then answered 204. Sends
 * { kind: 'ready', port }; takes the endpoint's secret from { cmd: 'secret', secret } (answered
 * { kind: 'secret-set' }); on { cmd: 'take' } sends { kind: 'records', records, badSignatures } and
 * forgets them; stops on { cmd: 'stop' }, SIGTERM or the parent going away.
 */

export interface ReceivedRecord {
  /** The `webhook-id` header (`msg_{sequence}`). */
  id: string;
  sequence: number;
  memberId: number;
  /** When the request's headers arrived (ms since the epoch, fractional). */
  arrivedAt: number;
  /** The event's `timestamp`: when the change was recorded, in its transaction (ms since the epoch). */
  changedAt: number;
}

const holdMs = Number(process.env.HOLD_MS ?? 50);
let verifier: Webhook | undefined;
const epochNow = () => performance.timeOrigin + performance.now();

let records: ReceivedRecord[] = [];
let badSignatures = 0;

const server = http.createServer((req, res) => {
  const arrivedAt = epochNow();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      if (!verifier) throw new Error('no secret yet');
      const event = verifier.verify(body, {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      }) as { sequence: number; timestamp: string; data: { memberId: number } };
      records.push({
        id: String(req.headers['webhook-id']),
        sequence: event.sequence,
        memberId: event.data.memberId,
        arrivedAt,
        changedAt: Date.parse(event.timestamp),
      });
    } catch {
      badSignatures++;
      res.writeHead(400).end();
      return;
    }
    setTimeout(() => res.writeHead(204).end(), holdMs);
  });
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  server.close(() => process.exit(0));
}

server.listen(0, '127.0.0.1', () => {
  process.on('message', (m: unknown) => {
    const cmd = (m as { cmd?: string }).cmd;
    if (cmd === 'secret') {
      verifier = new Webhook((m as { secret: string }).secret);
      process.send?.({ kind: 'secret-set' });
    } else if (cmd === 'take') {
      process.send?.({ kind: 'records', records, badSignatures });
      records = [];
      badSignatures = 0;
    } else if (cmd === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.send?.({ kind: 'ready', port: (server.address() as AddressInfo).port });
});
