import { Router, type Request, type RequestHandler, type Response } from 'express';
import { AppError, type FieldError } from '../errors';
import { handler, idParam, parseBody } from '../http/validate';
import { createWebhookSchema } from '../events/events.schema';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, sendHtml } from './admin-http';
import { webhooksPage, type WebhookForm } from './views/webhooks.views';

type WebhookDeps = Pick<AdminDeps, 'webhooks'>;

/** /admin/webhooks (admin): the apps' endpoints through the events room's service. */
export function adminWebhookRoutes(deps: WebhookDeps): Router {
  const r = Router();
  r.get('/', showWebhooks(deps));
  r.post('/', createWebhook(deps));
  r.post('/:id/test', testWebhook(deps));
  r.post('/:id/delete', deleteWebhook(deps));
  return r;
}

const EMPTY: WebhookForm = { url: '', events: [], sources: '' };

async function render(
  deps: WebhookDeps,
  req: Request,
  res: Response,
  status: number,
  d: { form: WebhookForm; errors: FieldError[]; created?: { id: number; secret: string } },
): Promise<void> {
  sendHtml(res, status, webhooksPage(ctxOf(req, 'webhooks'), { items: await deps.webhooks.list(), ...d }));
}

export function showWebhooks(deps: WebhookDeps): RequestHandler {
  return handler((req, res) => render(deps, req, res, 200, { form: EMPTY, errors: [] }));
}

/** POST /: the secret is shown on this answer only (never in a redirect's URL or a log). */
export function createWebhook(deps: WebhookDeps): RequestHandler {
  return handler(async (req, res) => {
    const raw = (req.body as Record<string, unknown>)?.events;
    const events = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
    const form: WebhookForm = { url: bodyString(req, 'url'), events, sources: bodyString(req, 'sources') };
    const sources = form.sources
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const input = parseBody(createWebhookSchema, {
        url: form.url,
        events,
        ...(sources.length ? { sources } : {}),
      });
      const created = await deps.webhooks.create(input);
      await render(deps, req, res, 201, {
        form: EMPTY,
        errors: [],
        created: { id: created.id, secret: created.secret },
      });
    } catch (err) {
      if (err instanceof AppError && (err.status === 400 || err.status === 422) && err.errors.length)
        return render(deps, req, res, 422, { form, errors: err.errors });
      throw err;
    }
  });
}

export function testWebhook(deps: WebhookDeps): RequestHandler {
  return handler(async (req, res) => {
    await deps.webhooks.test(idParam(req.params.id, 'webhook'));
    res.redirect(303, '/admin/webhooks');
  });
}

export function deleteWebhook(deps: WebhookDeps): RequestHandler {
  return handler(async (req, res) => {
    await deps.webhooks.delete(idParam(req.params.id, 'webhook'));
    res.redirect(303, '/admin/webhooks?melding=webhook-slettet');
  });
}
