import type { Request, RequestHandler, Response } from 'express';
import { AppError, type FieldError } from '../errors';
import { handler, idParam, parseBody } from '../http/validate';
import { createRequestSchema, updateRequestSchema } from '../privacy/privacy.schema';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, sendHtml } from './admin-http';
import { localInputToIso, toLocalInput } from '../presentation/oslo-time';
import { privacyPage, requestPage, type RequestForm } from './views/privacy.views';

/** /admin/privacy (privacy): the request log, and export and restriction of a member. Erasure: erase-confirm.handlers.ts. */

type PrivacyDeps = Pick<AdminDeps, 'privacy' | 'privacyRequests' | 'clock'>;

/** GET /: open and recently closed requests, and the form to register one. */
export function showPrivacyLog(deps: PrivacyDeps): RequestHandler {
  return handler((req, res) =>
    renderLog(deps, req, res, 200, {
      form: { type: 'access', email: '', receivedAt: toLocalInput(deps.clock()), channel: 'email', note: '' },
      errors: [],
    }),
  );
}

/** POST /requests: registers a request; invalid fields show the log again with the form as typed. */
export function registerRequest(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const form = requestForm(req);
    try {
      const input = parseBody(createRequestSchema, {
        type: form.type,
        email: form.email,
        receivedAt: localInputToIso(form.receivedAt),
        channel: form.channel,
        ...(form.note.trim() ? { note: form.note } : {}),
      });
      const created = await deps.privacyRequests.create(input);
      res.redirect(303, `/admin/privacy/requests/${created.id}?melding=registrert`);
    } catch (err) {
      if (err instanceof AppError && (err.status === 400 || err.status === 422) && err.errors.length)
        return renderLog(deps, req, res, 422, { form, errors: err.errors });
      throw err;
    }
  });
}

/** GET /requests/:id */
export function showRequest(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const request = await deps.privacyRequests.get(idParam(req.params.id, 'privacy request'));
    sendHtml(res, 200, requestPage(ctxOf(req, 'privacy'), { request, errors: [], outcome: '', note: '' }));
  });
}

/** POST /requests/:id/close: done, with an outcome and a note. */
export function closeRequest(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'privacy request');
    const outcome = bodyString(req, 'outcome').trim();
    const note = bodyString(req, 'note').trim();
    try {
      await deps.privacyRequests.update(
        id,
        parseBody(updateRequestSchema, {
          status: 'done',
          ...(outcome ? { outcome } : {}),
          ...(note ? { note } : {}),
        }),
      );
      res.redirect(303, '/admin/privacy?melding=lukket');
    } catch (err) {
      if (!(err instanceof AppError && err.status === 422 && err.errors.length)) throw err;
      const request = await deps.privacyRequests.get(id);
      sendHtml(res, 422, requestPage(ctxOf(req, 'privacy'), { request, errors: err.errors, outcome, note }));
    }
  });
}

/** POST /members/:id/export: everything about the member as a JSON download (logged as an export). */
export function exportMember(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'member');
    const doc = await deps.privacy.exportMember(id, 'staff');
    res
      .attachment(`medlem-${id}-innsyn.json`)
      .type('application/json')
      .send(JSON.stringify(doc, null, 2));
  });
}

/** POST /members/:id/restrict: restricts processing (art. 18), or lifts it. */
export function restrictMember(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'member');
    const restricted = bodyString(req, 'restricted') === 'true';
    await deps.privacy.restrict(id, restricted);
    res.redirect(303, `/admin/members/${id}?melding=${restricted ? 'begrenset' : 'opphevet'}`);
  });
}

function requestForm(req: Request): RequestForm {
  return {
    type: bodyString(req, 'type'),
    email: bodyString(req, 'email'),
    receivedAt: bodyString(req, 'receivedAt'),
    channel: bodyString(req, 'channel'),
    note: bodyString(req, 'note'),
  };
}

async function renderLog(
  deps: PrivacyDeps,
  req: Request,
  res: Response,
  status: number,
  d: { form: RequestForm; errors: FieldError[] },
): Promise<void> {
  const [open, closed] = await Promise.all([
    deps.privacyRequests.list({ open: true, limit: 200 }),
    deps.privacyRequests.list({ open: false, limit: 20 }),
  ]);
  sendHtml(res, status, privacyPage(ctxOf(req, 'privacy'), { open: open.items, closed: closed.items, ...d }));
}
