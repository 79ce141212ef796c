import type { Request, RequestHandler, Response } from 'express';
import { AppError, type FieldError } from '../errors';
import { handler, idParam, parseBody } from '../http/validate';
import { audienceSchema, createCampaignSchema, patchCampaignSchema } from '../campaigns/campaigns.schema';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, sendHtml } from './admin-http';
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
  type EditorOp,
} from './campaign-form';
import { nbMessage } from '../presentation/messages';
import { formatClock } from '../presentation/oslo-time';
import { audienceText, campaignFieldLabel, editorPage, type EditorData } from './views/campaigns.views';

/**
 * The campaign editor at /admin/campaigns: a draft's form with a live preview, saved through the
 * campaigns service (by hand, or by the script's autosave); "send a test" and «Lag kopi» save
 * first, then mail the staff member or open the copy.
 */

type EditorDeps = Pick<AdminDeps, 'campaigns' | 'clock'>;
type EditorState = Omit<EditorData, 'focusBlock' | 'testAddress' | 'now'> & { focusBlock?: number | null };

/** GET /new: an empty draft. */
export function newCampaign(deps: EditorDeps): RequestHandler {
  return handler(async (req, res) => {
    renderEditor(deps, req, res, 200, {
      id: null,
      form: emptyCampaignForm(),
      errors: [],
      previewHtml: null,
      audienceCount: await deps.campaigns.audienceCount(null),
    });
  });
}

/** GET /:id/edit: a saved draft (anything past draft goes to its progress page). */
export function editCampaign(deps: EditorDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'campaign');
    const campaign = await deps.campaigns.get(id);
    if (campaign.status !== 'draft') return res.redirect(303, `/admin/campaigns/${id}`);
    // A saved draft is previewed by the service itself, exactly as the API's preview.
    const previewHtml = await deps.campaigns.preview(id, 'html').catch((err) => {
      if (err instanceof AppError && err.status === 422) return null;
      throw err;
    });
    renderEditor(deps, req, res, 200, {
      id,
      form: campaignToForm(campaign),
      errors: [],
      previewHtml,
      audienceCount: campaign.recipients,
    });
  });
}

/** POST /new: creates the draft (or, without JavaScript, applies a block edit and shows the form again). */
export function createCampaign(deps: EditorDeps): RequestHandler {
  return handler((req, res) => submitEditor(deps, req, res, null));
}

/** POST /:id/edit: saves the draft, then shows it again, sends a test, or goes on to sending. */
export function saveCampaign(deps: EditorDeps): RequestHandler {
  return handler((req, res) => submitEditor(deps, req, res, idParam(req.params.id, 'campaign')));
}

/** POST /preview, for the script: the posted (unsaved) content rendered by the campaigns service. */
export function previewCampaign(deps: EditorDeps): RequestHandler {
  return handler(async (req, res) => {
    const form = parseCampaignForm(req.body ?? {});
    const [rendered, count] = await Promise.all([renderUnsaved(deps, form), countFor(deps, form)]);
    res.json({
      html: rendered.html,
      count,
      countText: count === null ? null : audienceText(count).value,
      errors: rendered.errors.map(shownError),
    });
  });
}

/** POST /:id/copy: a new draft with the same content, opened in the editor. */
export function copyCampaign(deps: EditorDeps): RequestHandler {
  return handler(async (req, res) => {
    const copy = await deps.campaigns.copy(idParam(req.params.id, 'campaign'));
    res.redirect(303, `/admin/campaigns/${copy.id}/edit?melding=kopiert`);
  });
}

const shownError = (e: FieldError) => ({
  path: e.path,
  label: campaignFieldLabel(e.path),
  message: nbMessage(e.message),
});

async function submitEditor(deps: EditorDeps, req: Request, res: Response, id: number | null) {
  const form = parseCampaignForm(req.body ?? {});
  const op = parseOp(bodyString(req, 'op'));
  const structural = ['add', 'remove', 'up', 'down', 'preview'].includes(op.kind);
  if (structural) return redrawEditor(deps, req, res, { id, form, op });
  if (op.kind === 'autosave') return autosaveDraft(deps, res, id, form);
  return saveDraft(deps, req, res, { id, form, op });
}

/**
 * The script's autosave, through the same save: `{ saved, id, editUrl, savedText }` when stored, or
 * `{ saved: false, errors }` while the form is not yet valid (answered 200: nothing is wrong with the request).
 */
async function autosaveDraft(deps: EditorDeps, res: Response, id: number | null, form: CampaignForm) {
  try {
    const view = await store(deps, id, form);
    res.json({
      saved: true,
      id: view.id,
      editUrl: `/admin/campaigns/${view.id}/edit`,
      savedText: `Lagret ${formatClock(deps.clock())}`,
    });
  } catch (err) {
    if (err instanceof AppError && (err.status === 400 || err.status === 422) && err.errors.length)
      return res.json({ saved: false, errors: err.errors.map(shownError) });
    if (err instanceof AppError && err.status === 409)
      return res.json({
        saved: false,
        errors: [],
        message: 'Ikke lagret: nyhetsbrevet er endret eller sendt et annet sted. Last inn siden på nytt.',
      });
    throw err;
  }
}

function store(deps: EditorDeps, id: number | null, form: CampaignForm) {
  return id === null
    ? deps.campaigns.create(parseBody(createCampaignSchema, createInput(form)))
    : deps.campaigns.update(id, parseBody(patchCampaignSchema, patchInput(form)));
}

/** Without JavaScript: apply the edit, show the form again with a fresh preview; nothing is saved. */
async function redrawEditor(
  deps: EditorDeps,
  req: Request,
  res: Response,
  d: { id: number | null; form: CampaignForm; op: EditorOp },
) {
  const applied = applyStructuralOp(d.form, d.op);
  const rendered = await renderUnsaved(deps, applied.form);
  renderEditor(deps, req, res, 200, {
    id: d.id,
    form: applied.form,
    errors: d.op.kind === 'preview' ? formErrors(applied.form, d.id) : [],
    previewHtml: rendered.html,
    audienceCount: await countFor(deps, applied.form),
    focusBlock: applied.focus,
  });
}

/** Saves, then: the test mail to the staff member, the send page, or the form with a flash. */
async function saveDraft(
  deps: EditorDeps,
  req: Request,
  res: Response,
  d: { id: number | null; form: CampaignForm; op: EditorOp },
) {
  let savedId = d.id;
  try {
    const view = await store(deps, d.id, d.form);
    savedId = view.id;
    if (d.op.kind === 'copy') {
      const copy = await deps.campaigns.copy(view.id);
      return res.redirect(303, `/admin/campaigns/${copy.id}/edit?melding=kopiert`);
    }
    if (d.op.kind === 'test') {
      await deps.campaigns.sendTest(view.id, [req.staff!.user.email]);
      return res.redirect(303, `/admin/campaigns/${view.id}/edit?melding=test-sendt`);
    }
    if (d.op.kind === 'send') return res.redirect(303, `/admin/campaigns/${view.id}/send`);
    res.redirect(303, `/admin/campaigns/${view.id}/edit?melding=${d.id === null ? 'opprettet' : 'lagret'}`);
  } catch (err) {
    const shown = editorRefusal(err, d.id, savedId);
    if (!shown) throw err;
    const rendered = await renderUnsaved(deps, d.form);
    renderEditor(deps, req, res, shown.status, {
      id: shown.id,
      form: d.form,
      errors: shown.errors,
      previewHtml: rendered.html,
      audienceCount: await countFor(deps, d.form),
    });
  }
}

/**
 * Errors shown next to the form: invalid fields (422, nothing saved), or a test mail the server
 * refused after the draft was saved (502). Anything else is the error page's.
 */
function editorRefusal(
  err: unknown,
  id: number | null,
  savedId: number | null,
): { status: number; id: number | null; errors: FieldError[] } | null {
  if (err instanceof AppError && (err.status === 400 || err.status === 422) && err.errors.length)
    return { status: 422, id, errors: err.errors };
  if (err instanceof AppError && err.status === 502 && savedId !== null) {
    const message = `Utkastet er lagret, men testen kunne ikke sendes: ${err.message}`;
    return { status: 502, id: savedId, errors: [{ path: 'test', message }] };
  }
  return null;
}

/** The reasons the service would refuse the form, or none. */
function formErrors(form: CampaignForm, id: number | null): FieldError[] {
  try {
    if (id === null) parseBody(createCampaignSchema, createInput(form));
    else parseBody(patchCampaignSchema, patchInput(form));
    return [];
  } catch (err) {
    if (err instanceof AppError && err.errors.length) return err.errors;
    throw err;
  }
}

/** The real render of unsaved content, or the reasons it cannot be rendered. */
async function renderUnsaved(
  deps: EditorDeps,
  form: CampaignForm,
): Promise<{ html: string | null; errors: FieldError[] }> {
  try {
    const input = parseBody(
      createCampaignSchema,
      createInput({ ...form, name: form.name || 'forhåndsvisning' }),
    );
    const { subject, preheader, blocks } = input;
    return { html: await deps.campaigns.previewContent({ subject, preheader, blocks }), errors: [] };
  } catch (err) {
    if (err instanceof AppError && (err.status === 400 || err.status === 422))
      return { html: null, errors: err.errors };
    throw err;
  }
}

async function countFor(deps: EditorDeps, form: CampaignForm): Promise<number | null> {
  const audience = audienceSchema.safeParse(audienceInput(form) ?? {});
  return audience.success ? deps.campaigns.audienceCount(audience.data) : null;
}

function renderEditor(deps: EditorDeps, req: Request, res: Response, status: number, d: EditorState): void {
  sendHtml(
    res,
    status,
    editorPage(ctxOf(req, 'campaigns'), {
      ...d,
      focusBlock: d.focusBlock ?? null,
      testAddress: req.staff!.user.email,
      now: deps.clock(),
    }),
  );
}
