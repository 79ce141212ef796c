import type { Request, RequestHandler, Response } from 'express';
import type { FieldError } from '../errors';
import { handler, idParam } from '../http/validate';
import { listCampaignsQuerySchema } from '../campaigns/campaigns.schema';
import type { CampaignView } from '../campaigns/campaigns.service';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, queryString, sendHtml } from './admin-http';
import { CAMPAIGN_STATUS_LABELS } from '../presentation/labels';
import { osloLocalToDate, toLocalInput } from '../presentation/oslo-time';
import { pastDates } from './campaign-form';
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

/**
 * The sending confirmations (`?melding=`), each shown only while the status it announces holds:
 * the progress page reloads (script or refresh) when the campaign moves on, and «Utsendelsen
 * fortsetter.» above a finished campaign would be stale.
 */
const FLASH_HOLDS_WHILE: Record<string, CampaignView['status']> = {
  'sending-startet': 'sending',
  planlagt: 'scheduled',
  pauset: 'paused',
  fortsatt: 'sending',
  avbrutt: 'cancelled',
};

const flashHolds = (key: string, status: CampaignView['status']) =>
  !Object.prototype.hasOwnProperty.call(FLASH_HOLDS_WHILE, key) || FLASH_HOLDS_WHILE[key] === status;

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
    const ctx = ctxOf(req, 'campaigns');
    if (!flashHolds(queryString(req, 'melding'), stats.status)) ctx.flash = null;
    sendHtml(res, 200, progressPage(ctx, { campaign, stats, previewHtml, limits }));
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
    renderSendConfirm(deps, req, res, 200, campaign, { when: 'now', scheduledAt: '', errors: [] });
  });
}

/**
 * POST /:id/send: starts the send, or schedules it for an Oslo time at least a minute ahead. An
 * activity that has begun or an offer that has run out by then needs `confirmPast` (the form's tick);
 * the API's send does not ask.
 */
export function sendCampaign(deps: CampaignDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'campaign');
    const when = bodyString(req, 'when') === 'later' ? 'later' : 'now';
    const local = bodyString(req, 'scheduledAt');
    const at = when === 'later' ? osloLocalToDate(local) : deps.clock();
    const problem = when === 'later' ? scheduleProblem(at, deps.clock().getTime()) : null;
    const refuse = async (error: FieldError) =>
      renderSendConfirm(deps, req, res, 422, await deps.campaigns.get(id), {
        when,
        scheduledAt: at && when === 'later' ? toLocalInput(at) : local,
        errors: [error],
        at: at ?? undefined,
      });
    if (problem) return refuse({ path: 'scheduledAt', message: problem });
    const campaign = await deps.campaigns.get(id);
    const confirmed = bodyString(req, 'confirmPast') === 'yes';
    if (campaign.status === 'draft' && !confirmed && pastDates(campaign.blocks, at!).length > 0)
      return refuse({ path: 'confirmPast', message: PAST_DATES_UNCONFIRMED });
    if (when === 'now') {
      await deps.sending.send(id);
      return res.redirect(303, `/admin/campaigns/${id}?melding=sending-startet`);
    }
    await deps.sending.send(id, at!);
    res.redirect(303, `/admin/campaigns/${id}?melding=planlagt`);
  });
}

const PAST_DATES_UNCONFIRMED =
  'Kryss av for at du vil sende med datoer som har vært, eller gå tilbake og rett datoene.';

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

/** `at`: when the campaign would go out (now unless a valid later time was chosen), for the dates that will have passed. */
function renderSendConfirm(
  deps: CampaignDeps,
  req: Request,
  res: Response,
  status: number,
  campaign: CampaignView,
  d: { when: string; scheduledAt: string; errors: FieldError[]; at?: Date },
): void {
  const now = deps.clock();
  sendHtml(
    res,
    status,
    sendConfirmPage(ctxOf(req, 'campaigns'), {
      campaign,
      count: campaign.recipients ?? 0,
      when: d.when,
      scheduledAt: d.scheduledAt,
      errors: d.errors,
      now,
      pastDates: pastDates(campaign.blocks, d.at ?? now, now),
      confirmPast: bodyString(req, 'confirmPast') === 'yes',
    }),
  );
}
