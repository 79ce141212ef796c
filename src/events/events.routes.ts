import { Router } from 'express';
import { requireScope } from '../http/auth';
import { handler, idParam, parseBody, parseQuery } from '../http/validate';
import { auth, problem, type RouteDoc } from '../http/openapi-kit';
import type { EventLog } from './event-log';
import type { WebhooksService } from './webhooks.service';
import { createWebhookSchema, feedQuerySchema } from './events.schema';

/** /v1/events: the feed for apps that poll, in sequence order. */
export function eventsRoutes(deps: { events: EventLog }): Router {
  const r = Router();
  r.get(
    '/',
    requireScope('members:read'),
    handler(async (req, res) => {
      const q = parseQuery(feedQuerySchema, req.query);
      res.json(await deps.events.list(q.after, q.limit));
    }),
  );
  return r;
}

/** /v1/webhooks: the apps' endpoints (admin). The secret appears only in the answer to POST. */
export function webhooksRoutes(deps: { webhooks: WebhooksService }): Router {
  const { webhooks } = deps;
  const r = Router();
  r.use(requireScope('admin'));
  r.post(
    '/',
    handler(async (req, res) => {
      res.status(201).json(await webhooks.create(parseBody(createWebhookSchema, req.body)));
    }),
  );
  r.get(
    '/',
    handler(async (_req, res) => {
      res.json({ items: await webhooks.list() });
    }),
  );
  r.delete(
    '/:id',
    handler(async (req, res) => {
      await webhooks.delete(idParam(req.params.id, 'webhook'));
      res.status(204).end();
    }),
  );
  r.post(
    '/:id/test',
    handler(async (req, res) => {
      res.json(await webhooks.test(idParam(req.params.id, 'webhook')));
    }),
  );
  return r;
}

export const eventsApi: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/events',
    tag: 'events',
    scope: 'members:read',
    summary: 'Member events after a sequence, in order (kept 30 days)',
    query: feedQuerySchema,
    responses: { '200': { description: '{ events: Event[], next }' }, '400': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/webhooks',
    tag: 'webhooks',
    scope: 'admin',
    summary: 'Add an endpoint; the answer holds its secret, shown only here',
    body: createWebhookSchema,
    responses: {
      '201': { description: 'Webhook with secret' },
      '400': problem,
      '422': problem,
      ...auth,
    },
  },
  {
    method: 'get',
    path: '/v1/webhooks',
    tag: 'webhooks',
    scope: 'admin',
    summary: 'Endpoints with their last result, failures and disabled state (no secrets)',
    responses: { '200': { description: '{ items: Webhook[] }' }, ...auth },
  },
  {
    method: 'delete',
    path: '/v1/webhooks/:id',
    tag: 'webhooks',
    scope: 'admin',
    summary: 'Remove an endpoint and its pending deliveries',
    responses: { '204': { description: 'deleted' }, '404': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/webhooks/:id/test',
    tag: 'webhooks',
    scope: 'admin',
    summary: 'Send a signed webhook.test message now',
    responses: { '200': { description: '{ ok, status, result }' }, '404': problem, ...auth },
  },
];
