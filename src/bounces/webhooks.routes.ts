import express, { Router } from 'express';
import type { BounceConfig } from '../config';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { handler } from '../http/validate';
import type { RouteDoc } from '../http/openapi-kit';
import type { BouncesService } from './bounces.service';
import type { ReportSource } from './bounce-report.entity';
import type { WebhookProvider } from './webhooks/provider';
import { MailgunWebhook } from './webhooks/mailgun';
import { PostmarkWebhook } from './webhooks/postmark';
import { SendgridWebhook } from './webhooks/sendgrid';
import { SesWebhook, type FetchText } from './webhooks/ses';

type Provider = Exclude<ReportSource, 'smtp'>;
const PROVIDERS: Provider[] = ['ses', 'mailgun', 'sendgrid', 'postmark'];

/** The providers whose secret is configured (CONTRACT §1: each variable set turns its route on). */
export function webhookProviders(deps: {
  config: BounceConfig;
  fetchText: FetchText;
  logger: Logger;
  clock: Clock;
}): Partial<Record<Provider, WebhookProvider>> {
  const c = deps.config;
  return {
    ...(c.sesTopicArns.length
      ? {
          ses: new SesWebhook({
            topicArns: c.sesTopicArns,
            fetchText: deps.fetchText,
            logger: deps.logger,
            clock: deps.clock,
          }),
        }
      : {}),
    ...(c.mailgunKey ? { mailgun: new MailgunWebhook(c.mailgunKey, deps.clock) } : {}),
    ...(c.sendgridPublicKey ? { sendgrid: new SendgridWebhook(c.sendgridPublicKey) } : {}),
    ...(c.postmarkSecret ? { postmark: new PostmarkWebhook(c.postmarkSecret) } : {}),
  };
}

/**
 * POST /webhooks/{ses,mailgun,sendgrid,postmark} (CONTRACT §9). Unconfigured → 404; a bad
 * signature, password or topic → 401, nothing changed; a payload it does not understand → 200,
 * nothing changed. The answer comes after the outcomes are applied: a provider that gets no 2xx
 * (database away: 503) sends the event again, and the event applied twice changes nothing twice.
 */
export function bounceWebhookRoutes(deps: {
  bounces: BouncesService;
  providers: Partial<Record<Provider, WebhookProvider>>;
  logger: Logger;
}): Router {
  const r = Router();
  // The raw bytes: SendGrid signs them, and SNS sends JSON as text/plain.
  const raw = express.raw({ type: () => true, limit: '2mb' });
  for (const name of PROVIDERS) {
    r.post(
      `/${name}`,
      raw,
      handler(async (req, res) => {
        const provider = deps.providers[name];
        if (!provider) return void res.status(404).type('text/plain').send('Not found');
        const verdict = await provider.read({
          body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
          header: (h) => req.get(h),
        });
        if (verdict.kind === 'unauthorized') {
          deps.logger.warn({ provider: name, reason: verdict.reason }, 'webhook refused');
          return void res.status(401).json({ error: 'unauthorized' });
        }
        const outcomes = await deps.bounces.applyAll(verdict.reports);
        const applied = outcomes.filter((o) => o === 'applied').length;
        verdict.done?.();
        res.status(200).json({ received: verdict.reports.length, applied });
      }),
    );
  }
  return r;
}

/** OpenAPI descriptions of these routes. */
export const bounceWebhooksApi: RouteDoc[] = PROVIDERS.map((name) => ({
  method: 'post' as const,
  path: `/webhooks/${name}`,
  tag: 'webhooks',
  summary: {
    ses: 'Amazon SES bounce and complaint notifications through SNS (signature checked against the SNS certificate; topic in SES_TOPIC_ARNS; SubscriptionConfirmation confirmed)',
    mailgun:
      'Mailgun failed and complained events (HMAC-SHA256 with MAILGUN_WEBHOOK_KEY; 5-minute timestamp; one use per token)',
    sendgrid: 'SendGrid event webhook batches (ECDSA signature with SENDGRID_WEBHOOK_PUBLIC_KEY)',
    postmark:
      'Postmark bounce and spam complaint webhooks (HTTP basic auth, password POSTMARK_WEBHOOK_SECRET)',
  }[name],
  responses: {
    '200': {
      description: '{ received, applied }: reports read and applied (0 for an event it does not understand)',
    },
    '401': { description: 'Bad signature, password or topic; nothing changed' },
    '404': { description: 'The provider is not configured', media: 'text/plain' },
  },
}));
