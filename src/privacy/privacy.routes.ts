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
