import type { BounceReport } from '../bounce-report.entity';

/** What a provider's webhook request says, once its signature or password is checked. */
export type WebhookVerdict =
  | { kind: 'unauthorized'; reason: string }
  | {
      kind: 'accepted';
      /** The outcomes it reports; empty for events it does not understand (answered 200 all the same). */
      reports: BounceReport[];
      /** Called once the reports are applied (Mailgun: the token may not be used again). */
      done?: () => void;
    };

export interface WebhookRequest {
  body: Buffer;
  header(name: string): string | undefined;
}

export interface WebhookProvider {
  read(req: WebhookRequest): Promise<WebhookVerdict>;
}

export const unauthorized = (reason: string): WebhookVerdict => ({ kind: 'unauthorized', reason });

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** The enhanced status code in a provider's text (e.g. «550 5.1.1 user unknown»), when it has none of its own. */
export function statusIn(...texts: Array<string | null | undefined>): string | null {
  for (const t of texts) {
    const m = t ? /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(t) : null;
    if (m) return m[1];
  }
  return null;
}
