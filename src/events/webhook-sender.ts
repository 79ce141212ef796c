import { Webhook } from 'standardwebhooks';

export interface SendOutcome {
  ok: boolean;
  /** The HTTP status, or null when no answer came (timeout, refused, DNS). */
  status: number | null;
  /** A short, address-free summary for the endpoint's last result, e.g. `200`, `503`, `timeout`. */
  result: string;
}

export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * One signed POST (Standard Webhooks via the `standardwebhooks` package): 10 s timeout, redirects
 * not followed (a 3xx is a failure like any non-2xx), the body read and dropped.
 */
export class WebhookSender {
  /** How long a request may take before it counts as no answer. */
  readonly timeoutMs: number;

  constructor(opts: { timeoutMs?: number } = {}) {
    this.timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  }

  async send(msg: {
    url: string;
    secret: string;
    messageId: string;
    at: Date;
    body: string;
  }): Promise<SendOutcome> {
    const signature = new Webhook(msg.secret).sign(msg.messageId, msg.at, msg.body);
    try {
      const res = await fetch(msg.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Kundeklubb-Webhooks/1',
          'webhook-id': msg.messageId,
          'webhook-timestamp': String(Math.floor(msg.at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: msg.body,
      });
      await res.body?.cancel().catch(() => undefined);
      return { ok: res.status >= 200 && res.status < 300, status: res.status, result: String(res.status) };
    } catch (err) {
      const name = (err as Error)?.name;
      const result = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'no answer';
      return { ok: false, status: null, result };
    }
  }
}
