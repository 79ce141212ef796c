import { Router } from 'express';
import { z } from 'zod';
import { sendSchema } from './campaigns.schema';
import { requireScope } from '../http/auth';
import { handler, idParam, parseBody } from '../http/validate';
import type { CampaignSending } from './campaign-sending.service';
import { auth, problem, type RouteDoc } from '../http/openapi-kit';

const emptySchema = z.strictObject({});

/** /v1/campaigns/:id/{send,pause,resume,cancel,stats} (CONTRACT §5). */
export function campaignSendingRoutes(deps: { sending: CampaignSending }): Router {
  const { sending } = deps;
  const r = Router();
  r.use(requireScope('campaigns'));

  r.post(
    '/:id/send',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const body = parseBody(sendSchema, req.body);
      const stats = await sending.send(id, body.scheduledAt ? new Date(body.scheduledAt) : undefined);
      res.status(202).json(stats);
    }),
  );
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    r.post(
      `/:id/${action}`,
      handler(async (req, res) => {
        const id = idParam(req.params.id, 'campaign');
        parseBody(emptySchema, req.body);
        res.json(await sending[action](id));
      }),
    );
  }
  r.get(
    '/:id/stats',
    handler(async (req, res) => {
      res.json(await sending.stats(idParam(req.params.id, 'campaign')));
    }),
  );
  return r;
}

/** OpenAPI descriptions of these routes. */
export const campaignSendingApi: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/campaigns/:id/send',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Send now or at scheduledAt',
    body: sendSchema,
    responses: { '202': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/pause',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Pause sending; answers once nothing more of the campaign can reach the relay',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/resume',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Resume sending',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/cancel',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Cancel; answers once nothing more of the campaign can reach the relay',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/:id/stats',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Progress: total, queued, sent, failed, skipped; clicks per link (count null below 10)',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '404': problem, ...auth },
  },
];
