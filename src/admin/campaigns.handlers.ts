import type { Request, RequestHandler, Response } from 'express';
import type { FieldError } from '../errors';
import { handler, idParam } from '../http/validate';
import { listCampaignsQuerySchema } from '../campaigns/campaigns.schema';
import type { CampaignView } from '../campaigns/campaigns.service';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, queryString, sendHtml } from './admin-http';
import { CAMPAIGN_STATUS_LABELS } from '../presentation/labels';
import { osloLocalToDate, toLocalInput } from '../presentation/oslo-time';
import {
  campaignListPage,
  cancelConfirmPage,
  progressPage,
  sendConfirmPage,
  statusLine,
} from './views/campaigns.views';

/** /admin/campaigns past the editor: the list, progress, send or schedule, pause, resume, cancel. */

type CampaignDeps = Pick<AdminDeps, 'campaigns' | 'sending' | 'clock' | 'config'>;

/** A scheduled send must be at least this far ahead; anything sooner is "send now". */
const MIN_SCHEDULE_AHEAD_MS = 60 * 1000;

/** GET /: newest first, 50 a page. */
export function listCampaigns(deps: CampaignDeps): RequestHandler {
  return handler(async (req, res) => {
    const cursor = queryString(req, 'cursor');
    const q = listCampaignsQuerySchema.parse({
      limit: '50',
      ...(/^\d{1,10}$/.test(cursor) ? { cursor } : {}),
    });
    const page = await deps.campaigns.list(q);
    sendHtml(res, 200, campaignListPage(ctxOf(req, 'campaigns'), page.items, page.nextCursor));
  });
}

/** GET /:id: a draft opens in the editor, anything else shows its progress and the sent content. */
export function showCampaign(deps: CampaignDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'campaign');
    const campaign = await deps.campaigns.get(id);
    if (campaign.status === 'draft') return res.redirect(303, `/admin/campaigns/${id}/edit`);
    const [stats, previewHtml] = await Promise.all([
      deps.sending.stats(id),
      deps.campaigns.preview(id, 'html'),
    ]);
    const { pauseRate, complaintPauseRate } = deps.config.bounces;
    const limits = { bounced: pauseRate, complained: complaintPauseRate };
    sendHtml(res, 200, progressPage(ctxOf(req, 'campaigns'), { campaign, stats, previewHtml, limits }));
  });
}

/** GET /:id/stats.json: the figures the progress page's script polls. */
export function campaignStats(deps: CampaignDeps): RequestHandler {
  return handler(async (req, res) => {
    const s = await deps.sending.stats(idParam(req.params.id, 'campaign'));
    res.json({ ...s, statusLabel: CAMPAIGN_STATUS_LABELS[s.status], statusLine: statusLine(s.status) });
  });
}

/** GET /:id/send: the last look before sending a draft, now or later. */
export function showSendConfirm(deps: CampaignDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'campaign');
    const campaign = await deps.campaigns.get(id);
    if (campaign.status !== 'draft') return res.redirect(303, `/admin/campaigns/${id}`);
    renderSendConfirm(req, res, 200, campaign, { when: 'now', scheduledAt: '', errors: [] });
  });
}

/** POST /:id/send: starts the send, or schedules it for an Oslo time at least a minute ahead. */
export function sendCampaign(deps: CampaignDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'campaign');
    const when = bodyString(req, 'when');
    if (when !== 'later') {
      await deps.sending.send(id);
      return res.redirect(303, `/admin/campaigns/${id}?melding=sending-startet`);
    }
    const local = bodyString(req, 'scheduledAt');
    const at = osloLocalToDate(local);
    const problem = scheduleProblem(at, deps.clock().getTime());
    if (problem) {
      return renderSendConfirm(req, res, 422, await deps.campaigns.get(id), {
        when,
        scheduledAt: at ? toLocalInput(at) : local,
        errors: [{ path: 'scheduledAt', message: problem }],
      });
    }
    await deps.sending.send(id, at!);
    res.redirect(303, `/admin/campaigns/${id}?melding=planlagt`);
  });
}

/** POST /:id/pause */
export function pauseCampaign(deps: CampaignDeps): RequestHandler {
  return sendingStep(deps, 'pause', 'pauset');
}

/** POST /:id/resume */
export function resumeCampaign(deps: CampaignDeps): RequestHandler {
  return sendingStep(deps, 'resume', 'fortsatt');
}

/** GET /:id/cancel: what has gone out, and what stopping now means. */
export function showCancelConfirm(deps: CampaignDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'campaign');
    const [campaign, stats] = await Promise.all([deps.campaigns.get(id), deps.sending.stats(id)]);
    sendHtml(res, 200, cancelConfirmPage(ctxOf(req, 'campaigns'), campaign, stats));
  });
}

/** POST /:id/cancel */
export function cancelCampaign(deps: CampaignDeps): RequestHandler {
  return sendingStep(deps, 'cancel', 'avbrutt');
}

/** A sending state change, then back to the progress page with its flash. */
function sendingStep(
  deps: CampaignDeps,
  action: 'pause' | 'resume' | 'cancel',
  flash: string,
): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'campaign');
    await deps.sending[action](id);
    res.redirect(303, `/admin/campaigns/${id}?melding=${flash}`);
  });
}

function scheduleProblem(at: Date | null, now: number): string | null {
  if (!at) return 'Velg dato og klokkeslett.';
  if (at.getTime() < now + MIN_SCHEDULE_AHEAD_MS) return 'Tidspunktet må være frem i tid.';
  return null;
}

function renderSendConfirm(
  req: Request,
  res: Response,
  status: number,
  campaign: CampaignView,
  d: { when: string; scheduledAt: string; errors: FieldError[] },
): void {
  sendHtml(
    res,
    status,
    sendConfirmPage(ctxOf(req, 'campaigns'), { campaign, count: campaign.recipients ?? 0, ...d }),
  );
}
