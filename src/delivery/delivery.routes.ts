import { Router } from 'express';
import { z } from 'zod';
import { requireScope } from '../http/auth';
import { handler, idParam, parseBody } from '../http/validate';
import type { DeliveryService } from './delivery.service';

export const sendSchema = z.strictObject({
  scheduledAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' })
    .optional(),
});
const emptySchema = z.strictObject({});

/** /v1/campaigns/:id/{send,pause,resume,cancel,stats} (CONTRACT §5). */
export function deliveryRoutes(deps: { delivery: DeliveryService }): Router {
  const { delivery } = deps;
  const r = Router();
  r.use(requireScope('campaigns'));

  r.post(
    '/:id/send',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const body = parseBody(sendSchema, req.body);
      const stats = await delivery.send(id, body.scheduledAt ? new Date(body.scheduledAt) : undefined);
      res.status(202).json(stats);
    }),
  );
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    r.post(
      `/:id/${action}`,
      handler(async (req, res) => {
        const id = idParam(req.params.id, 'campaign');
        parseBody(emptySchema, req.body);
        res.json(await delivery[action](id));
      }),
    );
  }
  r.get(
    '/:id/stats',
    handler(async (req, res) => {
      res.json(await delivery.stats(idParam(req.params.id, 'campaign')));
    }),
  );
  return r;
}
