import { Router } from 'express';
import { requireScope } from '../http/auth';
import { notFound } from '../errors';
import { handler, idParam, parseBody, parseQuery } from '../http/validate';
import type { PrivacyService } from './privacy.service';
import type { PrivacyRequestsService } from './privacy-requests.service';
import {
  createRequestSchema,
  listRequestsQuerySchema,
  restrictSchema,
  updateRequestSchema,
} from './privacy.schema';
import { auth, problem, type RouteDoc } from '../http/openapi-kit';

/** Staff side of the person's rights on /v1/members (scope `privacy`): export, erasure, restriction. */
export function privacyMemberRoutes(deps: { privacy: PrivacyService }): Router {
  const { privacy } = deps;
  const r = Router();

  r.get(
    '/:id/export',
    requireScope('privacy'),
    handler(async (req, res) => {
      const doc = await privacy.exportMember(idParam(req.params.id, 'member'), 'staff');
      res.set('Cache-Control', 'no-store').json(doc);
    }),
  );

  r.delete(
    '/:id',
    requireScope('privacy'),
    handler(async (req, res) => {
      const { erased } = await privacy.erase(idParam(req.params.id, 'member'), 'staff');
      if (!erased) throw notFound('member');
      res.status(204).end();
    }),
  );

  r.post(
    '/:id/restrict',
    requireScope('privacy'),
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      const { restricted } = parseBody(restrictSchema, req.body);
      res.json(await privacy.restrict(id, restricted));
    }),
  );
  return r;
}

/** /v1/privacy-requests: the request log (CONTRACT §6). */
export function privacyRequestRoutes(deps: { privacyRequests: PrivacyRequestsService }): Router {
  const { privacyRequests } = deps;
  const r = Router();
  r.use(requireScope('privacy'));

  r.post(
    '/',
    handler(async (req, res) => {
      res.status(201).json(await privacyRequests.create(parseBody(createRequestSchema, req.body)));
    }),
  );

  r.get(
    '/',
    handler(async (req, res) => {
      res.json(await privacyRequests.list(parseQuery(listRequestsQuerySchema, req.query)));
    }),
  );

  r.get(
    '/:id',
    handler(async (req, res) => {
      res.json(await privacyRequests.get(idParam(req.params.id, 'privacy request')));
    }),
  );

  r.patch(
    '/:id',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'privacy request');
      res.json(await privacyRequests.update(id, parseBody(updateRequestSchema, req.body)));
    }),
  );
  return r;
}

/** OpenAPI descriptions of these routes. */
export const privacyApi: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/members/:id/export',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Everything held about the member (art. 15/20)',
    responses: {
      '200': { description: '{ exportedAt, member, consentEvents, deliveries, privacyRequests }' },
      '404': problem,
      ...auth,
    },
  },
  {
    method: 'delete',
    path: '/v1/members/:id',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Erase (art. 17); a suppression HMAC remains',
    responses: { '204': { description: 'Erased' }, '404': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/members/:id/restrict',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Restrict processing (art. 18) or lift it',
    body: restrictSchema,
    responses: {
      '200': { description: 'Member', schema: 'Member' },
      '404': problem,
      '409': problem,
      ...auth,
    },
  },
  {
    method: 'post',
    path: '/v1/privacy-requests',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Log a request received by e-mail or phone; dueAt = one calendar month',
    body: createRequestSchema,
    responses: { '201': { description: 'Request' }, '400': problem, '422': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/privacy-requests',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'List requests; ?open=true lists open ones, overdue first',
    query: listRequestsQuerySchema,
    responses: { '200': { description: '{ items: Request[] }' }, ...auth },
  },
  {
    method: 'get',
    path: '/v1/privacy-requests/:id',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'One request',
    responses: { '200': { description: 'Request' }, '404': problem, ...auth },
  },
  {
    method: 'patch',
    path: '/v1/privacy-requests/:id',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Close a request (an erasure request can perform the erasure)',
    body: updateRequestSchema,
    responses: { '200': { description: 'Request' }, '404': problem, '422': problem, ...auth },
  },
];
