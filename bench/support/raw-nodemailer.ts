import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { toMessageOptions } from '../../src/mail/smtp-mailer';

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
  unsubscribeUrl: string;
  /** When set, the pool sends these pre-encoded bodies as the service's adapter does (toMessageOptions), not html/text. */
  encoded?: { html: string; text: string };
}

/**
 * The baselines the delivery worker is measured against: a bare nodemailer pool with `connections`
 * connections and `inFlight` parallel senders (default one per connection), handing `n` pre-rendered messages to the sink, each to
 * its own recipient `${prefix}${i}@example.no`, with the same headers a newsletter carries.
 * Returns messages per second.
 */
export async function rawNodemailerMsgsPerSec(opts: {
  url: string;
  from: string;
  connections: number;
  /** Messages handed to the pool at once (default: one per connection). */
  inFlight?: number;
  n: number;
  prefix: string;
  mail: RenderedMail;
}): Promise<number> {
  const transporter = nodemailer.createTransport({
    url: opts.url,
    pool: true,
    maxConnections: opts.connections,
    maxMessages: Infinity,
  });
  let next = 0;
  const sender = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.n) return;
      const to = `${opts.prefix}${i}@example.no`;
      const messageId = `<raw.${i}@cosmenor.no>`;
      const encoded = opts.mail.encoded;
      await transporter.sendMail(
        encoded
          ? toMessageOptions(
              {
                to,
                subject: opts.mail.subject,
                encoded,
                messageId,
                listUnsubscribeUrl: opts.mail.unsubscribeUrl,
              },
              opts.from,
            )
          : {
              from: opts.from,
              to,
              subject: opts.mail.subject,
              html: opts.mail.html,
              text: opts.mail.text,
              messageId,
              headers: {
                'List-Unsubscribe': `<${opts.mail.unsubscribeUrl}>`,
                'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
              },
            },
      );
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: opts.inFlight ?? opts.connections }, sender));
  const seconds = (performance.now() - start) / 1000;
  transporter.close();
  return opts.n / seconds;
}
