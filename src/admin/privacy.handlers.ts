import type { Request, RequestHandler, Response } from 'express';
import { AppError, type FieldError } from '../errors';
import { handler, idParam, parseBody } from '../http/validate';
import { rectifySchema } from '../members/members.schema';
import type { MemberView } from '../members/members.service';
import { closeRequestSchema, createRequestSchema } from '../privacy/privacy.schema';
import type { PrivacyRequestView } from '../privacy/privacy-requests.service';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, queryString, sendHtml } from './admin-http';
import { localInputToIso, toLocalInput } from '../presentation/oslo-time';
import {
  privacyPage,
  rectifyPage,
  requestPage,
  type RectifyForm,
  type RequestForm,
} from './views/privacy.views';

/**
 * /admin/privacy (privacy): the request log, each request with the actions its type needs, and
 * export, correction and restriction of a member. Erasure: erase-confirm.handlers.ts.
 */

type PrivacyDeps = Pick<AdminDeps, 'privacy' | 'privacyRequests' | 'members' | 'clock'>;

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
      if (isFormError(err)) return renderLog(deps, req, res, 422, { form, errors: err.errors });
      throw err;
    }
  });
}

/** GET /requests/:id: the request, the member it concerns, the actions for its type, and closing it. */
export function showRequest(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const request = await deps.privacyRequests.get(idParam(req.params.id, 'privacy request'));
    await renderRequest(deps, req, res, 200, request, {});
  });
}

/** POST /requests/:id/close: done, with an outcome (required) and a note. */
export function closeRequest(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'privacy request');
    const outcome = bodyString(req, 'outcome').trim();
    const note = bodyString(req, 'note').trim();
    try {
      await deps.privacyRequests.update(
        id,
        parseBody(closeRequestSchema, { status: 'done', outcome, ...(note ? { note } : {}) }),
      );
      res.redirect(303, '/admin/privacy?melding=lukket');
    } catch (err) {
      if (!isFormError(err)) throw err;
      const request = await deps.privacyRequests.get(id);
      await renderRequest(deps, req, res, 422, request, { close: { outcome, note, errors: err.errors } });
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

/** POST /members/:id/restrict: restricts processing (art. 18), or lifts it; back to the request when it came from one. */
export function restrictMember(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'member');
    const requestId = requestIdOf(req);
    const restricted = bodyString(req, 'restricted') === 'true';
    await deps.privacy.restrict(id, restricted);
    const flash = restricted ? 'begrenset' : 'opphevet';
    res.redirect(303, `${backPath(id, requestId)}?melding=${flash}`);
  });
}

/** GET /members/:id/rectify: the correction form (art. 16) on its own page, from the member or a request. */
export function showRectify(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const member = await deps.members.get(idParam(req.params.id, 'member'));
    const requestId = requestIdOf(req);
    sendHtml(
      res,
      200,
      rectifyPage(ctxOf(req, 'privacy'), {
        member,
        form: formOf(member),
        errors: [],
        requestId,
        back: backPath(member.id, requestId),
      }),
    );
  });
}

/**
 * POST /members/:id/rectify: names, phone and salon as typed, through the members room's
 * rectification (the same as PATCH /v1/members/:id: a consent event and the app event in one
 * transaction). Only changed fields are sent; an empty field clears the value.
 */
export function rectifyMember(deps: PrivacyDeps): RequestHandler {
  return handler(async (req, res) => {
    const member = await deps.members.get(idParam(req.params.id, 'member'));
    const requestId = requestIdOf(req);
    const form: RectifyForm = {
      firstName: bodyString(req, 'firstName'),
      lastName: bodyString(req, 'lastName'),
      phone: bodyString(req, 'phone'),
      partnerId: bodyString(req, 'partnerId'),
    };
    const current = formOf(member);
    const patch: Record<string, string | null> = {};
    for (const key of Object.keys(form) as Array<keyof RectifyForm>) {
      const typed = form[key].trim();
      if (typed !== current[key]) patch[key] = typed === '' ? null : typed;
    }
    try {
      await deps.members.rectify(member.id, parseBody(rectifySchema, patch));
      res.redirect(303, `${backPath(member.id, requestId)}?melding=rettet`);
    } catch (err) {
      if (!isFormError(err)) throw err;
      if (requestId) {
        const request = await deps.privacyRequests.get(requestId);
        return renderRequest(deps, req, res, 422, request, { rectify: { form, errors: err.errors } });
      }
      sendHtml(
        res,
        422,
        rectifyPage(ctxOf(req, 'privacy'), {
          member,
          form,
          errors: err.errors,
          requestId,
          back: backPath(member.id, requestId),
        }),
      );
    }
  });
}

/** A refusal to show beside the form's fields (the schema's or the service's). */
function isFormError(err: unknown): err is AppError {
  return err instanceof AppError && (err.status === 400 || err.status === 422) && err.errors.length > 0;
}

/** The request an action was started from (hidden field or `?request=`), to return to it. */
function requestIdOf(req: Request): number | undefined {
  const raw = bodyString(req, 'requestId') || queryString(req, 'request');
  return raw ? idParam(raw, 'privacy request') : undefined;
}

const backPath = (memberId: number, requestId: number | undefined) =>
  requestId ? `/admin/privacy/requests/${requestId}` : `/admin/members/${memberId}`;

const formOf = (m: MemberView): RectifyForm => ({
  firstName: m.firstName ?? '',
  lastName: m.lastName ?? '',
  phone: m.phone ?? '',
  partnerId: m.partnerId ?? '',
});

function requestForm(req: Request): RequestForm {
  return {
    type: bodyString(req, 'type'),
    email: bodyString(req, 'email'),
    receivedAt: bodyString(req, 'receivedAt'),
    channel: bodyString(req, 'channel'),
    note: bodyString(req, 'note'),
  };
}

async function renderRequest(
  deps: PrivacyDeps,
  req: Request,
  res: Response,
  status: number,
  request: PrivacyRequestView,
  typed: {
    close?: { outcome: string; note: string; errors: FieldError[] };
    rectify?: { form: RectifyForm; errors: FieldError[] };
  },
): Promise<void> {
  const member = request.memberId ? await deps.members.get(request.memberId) : null;
  sendHtml(
    res,
    status,
    requestPage(ctxOf(req, 'privacy'), {
      request,
      member,
      close: typed.close ?? { outcome: '', note: request.note ?? '', errors: [] },
      rectify: typed.rectify ?? (member ? { form: formOf(member), errors: [] } : null),
    }),
  );
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
