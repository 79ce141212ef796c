import nodemailer from 'nodemailer';
import request from 'supertest';
import { BounceListener } from '../../src/bounces/bounce-listener';
import type { TestApp } from '../support/test-app';
import { waitUntil } from '../support/club';
import { mailgunSignature, postmarkAuth, sendgridHeaders, snsMessage } from './signing';

/** The service's bounce listener on a free loopback port. */
export async function startListener(t: TestApp): Promise<{ port: number; close(): Promise<void> }> {
  const listener = new BounceListener({
    verp: t.c.verp!,
    apply: (report) => t.c.bounces.apply(report),
    logger: t.c.logger,
    metrics: t.c.metrics,
  });
  const port = await listener.listen(0, '127.0.0.1');
  return { port, close: () => listener.close() };
}

/**
 * Delivers a report to the listener as a mail server does: null sender, the VERP address as
 * recipient. Resolves with the listener's final reply (and how many recipients it refused);
 * rejects when it refused the message.
 */
export async function deliverReport(port: number, to: string | string[], raw: string): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({ envelope: { from: '', to }, raw });
    return info.rejected.length
      ? `${info.response} (${info.rejected.length} recipients refused)`
      : info.response;
  } finally {
    transport.close();
  }
}

/** The newsletter (or confirmation) a member received, with the envelope sender it went out with. */
export async function mailTo(t: TestApp, email: string, subject: RegExp | string) {
  return waitUntil(async () =>
    t.peer
      .mailsTo(email)
      .reverse()
      .find((m) =>
        typeof subject === 'string' ? m.parsed.subject === subject : subject.test(m.parsed.subject ?? ''),
      ),
  );
}

/** POSTs a provider webhook, signed as the provider signs it. */
export function postWebhook(
  t: TestApp,
  provider: 'ses' | 'mailgun' | 'sendgrid' | 'postmark',
  payload: unknown,
) {
  const r = request(t.app).post(`/webhooks/${provider}`);
  switch (provider) {
    case 'ses':
      return r
        .set('content-type', 'text/plain; charset=UTF-8')
        .send(JSON.stringify(snsMessage('Notification', payload)));
    case 'mailgun':
      return r
        .set('content-type', 'application/json')
        .send(JSON.stringify({ signature: mailgunSignature(), 'event-data': payload }));
    case 'sendgrid': {
      const raw = JSON.stringify(payload);
      return r.set('content-type', 'application/json').set(sendgridHeaders(raw)).send(raw);
    }
    case 'postmark':
      return r
        .set('content-type', 'application/json')
        .set('authorization', postmarkAuth())
        .send(JSON.stringify(payload));
  }
}

/** What the members room shows of a member (status, consent history) through the API. */
export async function memberState(t: TestApp, id: number) {
  const m = await request(t.app).get(`/v1/members/${id}`).set('authorization', `Bearer ${t.tokens.app}`);
  const consents = await request(t.app)
    .get(`/v1/members/${id}/consents`)
    .set('authorization', `Bearer ${t.tokens.app}`);
  return {
    status: m.status === 404 ? 'gone' : (m.body.status as string),
    email: m.body.email as string | null,
    events: (consents.body.items ?? []) as Array<{
      type: string;
      channel: string | null;
      code: string | null;
    }>,
  };
}
