import { Router, type Request, type Response } from 'express';
import type { Container } from '../container';
import { AppError, type FieldError } from '../errors';
import { handler, idParam, parseBody } from '../http/validate';
import {
  audienceSchema,
  createCampaignSchema,
  listCampaignsQuerySchema,
  patchCampaignSchema,
} from '../campaigns/campaigns.schema';
import type { CampaignView } from '../campaigns/campaigns.service';
import { bodyString, ctxOf, queryString, sendHtml } from './admin-http';
import {
  applyStructuralOp,
  audienceInput,
  campaignToForm,
  createInput,
  emptyCampaignForm,
  parseCampaignForm,
  parseOp,
  patchInput,
  type CampaignForm,
} from './campaign-form';
import { CAMPAIGN_STATUS_LABELS, translateError } from './labels';
import { osloLocalToDate, toLocalInput } from './oslo-time';
import {
  audienceText,
  campaignFieldLabel,
  cancelConfirmPage,
  campaignListPage,
  editorPage,
  progressPage,
  sendConfirmPage,
  statusLine,
} from './views/campaigns.views';

/** A scheduled send must be at least this far ahead; anything sooner is "send now". */
const MIN_SCHEDULE_AHEAD_MS = 60 * 1000;

/** /admin/campaigns: list, editor with live preview, test send, send/schedule, progress. */
export function adminCampaignRoutes(c: Container): Router {
  const r = Router();

  /** The form as the service would take it; null + errors when it would refuse it. */
  function validate(form: CampaignForm, id: number | null): { errors: FieldError[] } {
    try {
      if (id === null) parseBody(createCampaignSchema, createInput(form));
      else parseBody(patchCampaignSchema, patchInput(form));
      return { errors: [] };
    } catch (err) {
      if (err instanceof AppError && err.errors.length) return { errors: err.errors };
      throw err;
    }
  }

  /** The real render of unsaved content, or the reasons it cannot be rendered. */
  async function renderUnsaved(form: CampaignForm): Promise<{ html: string | null; errors: FieldError[] }> {
    try {
      const input = parseBody(
        createCampaignSchema,
        createInput({ ...form, name: form.name || 'forhåndsvisning' }),
      );
      return {
        html: await c.campaigns.previewContent({
          subject: input.subject,
          preheader: input.preheader,
          blocks: input.blocks,
        }),
        errors: [],
      };
    } catch (err) {
      if (err instanceof AppError && (err.status === 400 || err.status === 422))
        return { html: null, errors: err.errors };
      throw err;
    }
  }

  async function countFor(form: CampaignForm): Promise<number | null> {
    const audience = audienceSchema.safeParse(audienceInput(form) ?? {});
    return audience.success ? c.campaigns.audienceCount(audience.data) : null;
  }

  async function requireDraft(id: number): Promise<CampaignView> {
    return c.campaigns.get(id);
  }

  function renderEditor(
    req: Request,
    res: Response,
    status: number,
    d: {
      id: number | null;
      form: CampaignForm;
      errors: FieldError[];
      previewHtml: string | null;
      audienceCount: number | null;
      focusBlock?: number | null;
    },
  ) {
    sendHtml(
      res,
      status,
      editorPage(ctxOf(req, 'campaigns'), {
        ...d,
        focusBlock: d.focusBlock ?? null,
        testAddress: req.staff!.user.email,
      }),
    );
  }

  r.get(
    '/',
    handler(async (req, res) => {
      const cursor = queryString(req, 'cursor');
      const q = listCampaignsQuerySchema.parse({
        limit: '50',
        ...(/^\d{1,10}$/.test(cursor) ? { cursor } : {}),
      });
      const page = await c.campaigns.list(q);
      sendHtml(res, 200, campaignListPage(ctxOf(req, 'campaigns'), page.items, page.nextCursor));
    }),
  );

  r.get(
    '/new',
    handler(async (req, res) => {
      renderEditor(req, res, 200, {
        id: null,
        form: emptyCampaignForm(),
        errors: [],
        previewHtml: null,
        audienceCount: await c.campaigns.audienceCount(null),
      });
    }),
  );

  /** Live preview for the script: the posted (unsaved) content rendered by the campaigns service. */
  r.post(
    '/preview',
    handler(async (req, res) => {
      const form = parseCampaignForm(req.body ?? {});
      const [rendered, count] = await Promise.all([renderUnsaved(form), countFor(form)]);
      res.json({
        html: rendered.html,
        count,
        countText: count === null ? null : audienceText(count).value,
        errors: rendered.errors.map((e) => ({
          path: e.path,
          label: campaignFieldLabel(e.path),
          message: translateError(e.message),
        })),
      });
    }),
  );

  async function handleEditor(req: Request, res: Response, id: number | null): Promise<void> {
    let form = parseCampaignForm(req.body ?? {});
    const op = parseOp(bodyString(req, 'op'));
    if (
      op.kind === 'add' ||
      op.kind === 'remove' ||
      op.kind === 'up' ||
      op.kind === 'down' ||
      op.kind === 'preview'
    ) {
      // Without JavaScript: apply the edit, show the form again with a fresh preview; nothing is saved.
      const applied = applyStructuralOp(form, op);
      form = applied.form;
      const rendered = await renderUnsaved(form);
      const errors = op.kind === 'preview' ? validate(form, id).errors : [];
      return renderEditor(req, res, 200, {
        id,
        form,
        errors,
        previewHtml: rendered.html,
        audienceCount: await countFor(form),
        focusBlock: applied.focus,
      });
    }
    let savedId = id;
    try {
      const view =
        id === null
          ? await c.campaigns.create(parseBody(createCampaignSchema, createInput(form)))
          : await c.campaigns.update(id, parseBody(patchCampaignSchema, patchInput(form)));
      savedId = view.id;
      if (op.kind === 'test') {
        await c.campaigns.sendTest(view.id, [req.staff!.user.email]);
        return res.redirect(303, `/admin/campaigns/${view.id}/edit?melding=test-sendt`);
      }
      if (op.kind === 'send') return res.redirect(303, `/admin/campaigns/${view.id}/send`);
      res.redirect(303, `/admin/campaigns/${view.id}/edit?melding=${id === null ? 'opprettet' : 'lagret'}`);
    } catch (err) {
      if (err instanceof AppError && (err.status === 400 || err.status === 422) && err.errors.length) {
        const rendered = await renderUnsaved(form);
        return renderEditor(req, res, 422, {
          id,
          form,
          errors: err.errors,
          previewHtml: rendered.html,
          audienceCount: await countFor(form),
        });
      }
      if (err instanceof AppError && err.status === 502 && savedId !== null) {
        // Saved, but the test mail was refused: say so next to the form.
        const rendered = await renderUnsaved(form);
        return renderEditor(req, res, 502, {
          id: savedId,
          form,
          errors: [
            { path: 'test', message: `Utkastet er lagret, men testen kunne ikke sendes: ${err.message}` },
          ],
          previewHtml: rendered.html,
          audienceCount: await countFor(form),
        });
      }
      throw err;
    }
  }

  r.post(
    '/new',
    handler((req, res) => handleEditor(req, res, null)),
  );

  r.get(
    '/:id',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const campaign = await c.campaigns.get(id);
      if (campaign.status === 'draft') return res.redirect(303, `/admin/campaigns/${id}/edit`);
      const [stats, previewHtml] = await Promise.all([c.delivery.stats(id), c.campaigns.preview(id, 'html')]);
      sendHtml(res, 200, progressPage(ctxOf(req, 'campaigns'), { campaign, stats, previewHtml }));
    }),
  );

  r.get(
    '/:id/edit',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const campaign = await requireDraft(id);
      if (campaign.status !== 'draft') return res.redirect(303, `/admin/campaigns/${id}`);
      // A saved draft is previewed by the service itself, exactly as the API's preview.
      const previewHtml = await c.campaigns.preview(id, 'html').catch((err) => {
        if (err instanceof AppError && err.status === 422) return null;
        throw err;
      });
      renderEditor(req, res, 200, {
        id,
        form: campaignToForm(campaign),
        errors: [],
        previewHtml,
        audienceCount: campaign.recipients,
      });
    }),
  );

  r.post(
    '/:id/edit',
    handler((req, res) => handleEditor(req, res, idParam(req.params.id, 'campaign'))),
  );

  r.get(
    '/:id/stats.json',
    handler(async (req, res) => {
      const s = await c.delivery.stats(idParam(req.params.id, 'campaign'));
      res.json({ ...s, statusLabel: CAMPAIGN_STATUS_LABELS[s.status], statusLine: statusLine(s.status) });
    }),
  );

  r.get(
    '/:id/send',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const campaign = await c.campaigns.get(id);
      if (campaign.status !== 'draft') return res.redirect(303, `/admin/campaigns/${id}`);
      sendHtml(
        res,
        200,
        sendConfirmPage(ctxOf(req, 'campaigns'), {
          campaign,
          count: campaign.recipients ?? 0,
          when: 'now',
          scheduledAt: '',
          errors: [],
        }),
      );
    }),
  );

  r.post(
    '/:id/send',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const when = bodyString(req, 'when');
      if (when === 'later') {
        const local = bodyString(req, 'scheduledAt');
        const at = osloLocalToDate(local);
        const now = c.clock().getTime();
        const problem = !at
          ? 'Velg dato og klokkeslett.'
          : at.getTime() < now + MIN_SCHEDULE_AHEAD_MS
            ? 'Tidspunktet må være frem i tid.'
            : null;
        if (problem) {
          const campaign = await c.campaigns.get(id);
          return sendHtml(
            res,
            422,
            sendConfirmPage(ctxOf(req, 'campaigns'), {
              campaign,
              count: campaign.recipients ?? 0,
              when,
              scheduledAt: at ? toLocalInput(at) : local,
              errors: [{ path: 'scheduledAt', message: problem }],
            }),
          );
        }
        await c.delivery.send(id, at!);
        return res.redirect(303, `/admin/campaigns/${id}?melding=planlagt`);
      }
      await c.delivery.send(id);
      res.redirect(303, `/admin/campaigns/${id}?melding=sending-startet`);
    }),
  );

  for (const [action, flash] of [
    ['pause', 'pauset'],
    ['resume', 'fortsatt'],
  ] as const) {
    r.post(
      `/:id/${action}`,
      handler(async (req, res) => {
        const id = idParam(req.params.id, 'campaign');
        await c.delivery[action](id);
        res.redirect(303, `/admin/campaigns/${id}?melding=${flash}`);
      }),
    );
  }

  r.get(
    '/:id/cancel',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      const [campaign, stats] = await Promise.all([c.campaigns.get(id), c.delivery.stats(id)]);
      sendHtml(res, 200, cancelConfirmPage(ctxOf(req, 'campaigns'), campaign, stats));
    }),
  );

  r.post(
    '/:id/cancel',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'campaign');
      await c.delivery.cancel(id);
      res.redirect(303, `/admin/campaigns/${id}?melding=avbrutt`);
    }),
  );

  return r;
}
