import { Router } from 'express';
import { requireScope } from '../http/auth';
import { handler, idParam, parseBody, parseQuery } from '../http/validate';
import type { CampaignsService } from './campaigns.service';
import {
  audienceCountBodySchema,
  audienceCountQuerySchema,
  createCampaignSchema,
  listCampaignsQuerySchema,
  patchCampaignSchema,
  previewQuerySchema,
  testSendSchema,
} from './campaigns.schema';
import { auth, problem, type RouteDoc } from '../http/openapi-kit';

/** /v1/campaigns: authoring, audience count, preview and test send. Thin handlers: validate → service → JSON. */
export function campaignsRoutes(deps: { campaigns: CampaignsService }): Router {
  const { campaigns } = deps;
  const r = Router();
  const scope = requireScope('campaigns');

  // Before `/:id`, which would otherwise read "audience-count" as an id.
  r.get(
    '/audience-count',
    scope,
    handler(async (req, res) => {
      const q = parseQuery(audienceCountQuerySchema, req.query);
      res.json({ count: await campaigns.audienceCount({ sources: q.sources, partnerIds: q.partnerIds }) });
    }),
  );

  r.post(
    '/audience-count',
    scope,
    handler(async (req, res) => {
      const { audience } = parseBody(audienceCountBodySchema, req.body);
      res.json({ count: await campaigns.audienceCount(audience ?? null) });
    }),
  );

  r.post(
    '/',
    scope,
    handler(async (req, res) => {
      res.status(201).json(await campaigns.create(parseBody(createCampaignSchema, req.body)));
    }),
  );

  r.get(
    '/',
    scope,
    handler(async (req, res) => {
      res.json(await campaigns.list(parseQuery(listCampaignsQuerySchema, req.query)));
    }),
  );

  r.get(
    '/:id',
    scope,
    handler(async (req, res) => {
      res.json(await campaigns.get(idParam(req.params.id, 'campaign')));
    }),
  );

  r.patch(
    '/:id',
    scope,
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      res.json(await campaigns.update(id, parseBody(patchCampaignSchema, req.body)));
    }),
  );

  r.get(
    '/:id/preview',
    scope,
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const { format } = parseQuery(previewQuerySchema, req.query);
      const body = await campaigns.preview(id, format);
      res
        .status(200)
        .set('cache-control', 'no-store')
        .type(format === 'text' ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8')
        .send(body);
    }),
  );

  r.post(
    '/:id/test',
    scope,
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const { to } = parseBody(testSendSchema, req.body);
      res.json(await campaigns.sendTest(id, to));
    }),
  );

  return r;
}

/** OpenAPI descriptions of these routes. */
export const campaignsApi: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/campaigns',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Create a draft newsletter from blocks',
    body: createCampaignSchema,
    responses: { '201': { description: 'Campaign' }, '400': problem, '422': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'List campaigns, newest first',
    query: listCampaignsQuerySchema,
    responses: { '200': { description: '{ items: Campaign[], nextCursor }' }, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/audience-count',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'How many active members an audience reaches',
    query: audienceCountQuerySchema,
    responses: { '200': { description: '{ count }' }, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/audience-count',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'How many active members an audience reaches',
    body: audienceCountBodySchema,
    responses: { '200': { description: '{ count }' }, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'One campaign',
    responses: { '200': { description: 'Campaign' }, '404': problem, ...auth },
  },
  {
    method: 'patch',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Edit a draft (anything else → 409)',
    body: patchCampaignSchema,
    responses: { '200': { description: 'Campaign' }, '409': problem, '422': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/:id/preview',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'The rendered newsletter (HTML, or ?format=text)',
    query: previewQuerySchema,
    responses: {
      '200': { description: 'text/html or text/plain', media: 'text/html' },
      '404': problem,
      ...auth,
    },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/test',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Send a «[TEST]» copy to listed addresses now',
    body: testSendSchema,
    responses: { '200': { description: '{ sent }' }, '422': problem, '502': problem, ...auth },
  },
];
