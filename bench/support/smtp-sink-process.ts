import { startSmtpPeer } from '../../test/support/smtp-peer';

/**
 * Child process: the test suite's SMTP peer as a fast sink (`parse: false`), in its own process so
 * its CPU and memory are not counted against the sender. It keeps only a count per recipient.
 * IPC: { cmd: 'stats' | 'reset' | 'latency', ms? } → { kind: 'stats', ... } | { kind: 'ok' }.
 */

export interface SinkStats {
  messages: number;
  distinct: number;
  duplicates: number;
}

async function main(): Promise<void> {
  const peer = await startSmtpPeer({ parse: false });
  let counts = new Map<string, number>();
  let messages = 0;

  // The peer keeps every header block; fold them into counts so a million mails stay small.
  const drain = () => {
    for (const mail of peer.mails) {
      messages++;
      for (const rcpt of mail.rcpt) counts.set(rcpt, (counts.get(rcpt) ?? 0) + 1);
    }
    peer.clear();
  };
  const timer = setInterval(drain, 100);

  const reply = (m: unknown) => process.send?.(m);
  process.on('message', (raw: unknown) => {
    const m = raw as { cmd: string; ms?: number };
    if (m.cmd === 'stats') {
      drain();
      let duplicates = 0;
      for (const n of counts.values()) duplicates += n - 1;
      const stats: SinkStats = { messages, distinct: counts.size, duplicates };
      reply({ kind: 'stats', ...stats });
    } else if (m.cmd === 'reset') {
      drain();
      counts = new Map();
      messages = 0;
      reply({ kind: 'ok' });
    } else if (m.cmd === 'latency') {
      peer.setLatency(m.ms ?? 0);
      reply({ kind: 'ok' });
    } else if (m.cmd === 'stop') {
      clearInterval(timer);
      void peer.stop().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  reply({ kind: 'ready', port: peer.port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
