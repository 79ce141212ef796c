import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { forkTs, nextMessage, stopChild } from './bench-env';
import type { SinkStats } from './smtp-sink-process';

export type { SinkStats };

/** Parent side of the SMTP sink child process. */
export interface SmtpSink {
  url: string;
  stats(): Promise<SinkStats>;
  /** Forgets what was received (between the phases of a bench). */
  reset(): Promise<void>;
  /** Delay before the reply to the end of DATA, per message: a slow relay. */
  setLatency(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const child: ChildProcess = forkTs(path.join(__dirname, 'smtp-sink-process.ts'), {});
  const kindIs =
    <T>(kind: string) =>
    (m: unknown) =>
      (m as { kind?: string }).kind === kind ? (m as T) : undefined;
  const { port } = await nextMessage(child, kindIs<{ port: number }>('ready'));
  const ask = async <T>(msg: object, kind: string): Promise<T> => {
    const answer = nextMessage(child, kindIs<T>(kind));
    child.send(msg);
    return answer;
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    stats: async () => {
      const { messages, distinct, duplicates } = await ask<SinkStats>({ cmd: 'stats' }, 'stats');
      return { messages, distinct, duplicates };
    },
    reset: async () => void (await ask({ cmd: 'reset' }, 'ok')),
    setLatency: async (ms) => void (await ask({ cmd: 'latency', ms }, 'ok')),
    stop: async () => void (await stopChild(child)),
  };
}
