import { Router, type Request, type Response } from 'express';
import type { Container } from '../container';
import { AppError, notFound, type FieldError } from '../errors';
import { handler, idParam, parseBody } from '../http/validate';
import { emailSchema } from '../members/members.schema';
import type { MemberView } from '../members/members.service';
import { createRequestSchema, updateRequestSchema } from '../privacy/privacy.schema';
import { bodyString, ctxOf, sendHtml } from './admin-http';
import { localInputToIso, toLocalInput } from './oslo-time';
import { eraseConfirmPage } from './views/members.views';
import { privacyPage, requestPage, type RequestForm } from './views/privacy.views';

/** /admin/privacy (privacy): the request log, and export, restriction and erasure of a member. */
export function adminPrivacyRoutes(c: Container): Router {
  const r = Router();

  async function renderLog(
    req: Request,
    res: Response,
    status: number,
    form: RequestForm,
    errors: FieldError[],
  ) {
    const [open, closed] = await Promise.all([
      c.privacyRequests.list({ open: true, limit: 200 }),
      c.privacyRequests.list({ open: false, limit: 20 }),
    ]);
    sendHtml(
      res,
      status,
      privacyPage(ctxOf(req, 'privacy'), { open: open.items, closed: closed.items, form, errors }),
    );
  }

  r.get(
    '/',
    handler((req, res) =>
      renderLog(
        req,
        res,
        200,
        { type: 'access', email: '', receivedAt: toLocalInput(c.clock()), channel: 'email', note: '' },
        [],
      ),
    ),
  );

  r.post(
    '/requests',
    handler(async (req, res) => {
      const form: RequestForm = {
        type: bodyString(req, 'type'),
        email: bodyString(req, 'email'),
        receivedAt: bodyString(req, 'receivedAt'),
        channel: bodyString(req, 'channel'),
        note: bodyString(req, 'note'),
      };
      try {
        const input = parseBody(createRequestSchema, {
          type: form.type,
          email: form.email,
          receivedAt: localInputToIso(form.receivedAt),
          channel: form.channel,
          ...(form.note.trim() ? { note: form.note } : {}),
        });
        const created = await c.privacyRequests.create(input);
        res.redirect(303, `/admin/privacy/requests/${created.id}?melding=registrert`);
      } catch (err) {
        if (err instanceof AppError && (err.status === 400 || err.status === 422) && err.errors.length)
          return renderLog(req, res, 422, form, err.errors);
        throw err;
      }
    }),
  );

  r.get(
    '/requests/:id',
    handler(async (req, res) => {
      const request = await c.privacyRequests.get(idParam(req.params.id, 'privacy request'));
      sendHtml(res, 200, requestPage(ctxOf(req, 'privacy'), { request, errors: [], outcome: '', note: '' }));
    }),
  );

  r.post(
    '/requests/:id/close',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'privacy request');
      const outcome = bodyString(req, 'outcome').trim();
      const note = bodyString(req, 'note').trim();
      try {
        await c.privacyRequests.update(
          id,
          parseBody(updateRequestSchema, {
            status: 'done',
            ...(outcome ? { outcome } : {}),
            ...(note ? { note } : {}),
          }),
        );
        res.redirect(303, '/admin/privacy?melding=lukket');
      } catch (err) {
        if (err instanceof AppError && err.status === 422 && err.errors.length) {
          const request = await c.privacyRequests.get(id);
          return sendHtml(
            res,
            422,
            requestPage(ctxOf(req, 'privacy'), { request, errors: err.errors, outcome, note }),
          );
        }
        throw err;
      }
    }),
  );

  async function requestMember(id: number): Promise<{ member: MemberView }> {
    const request = await c.privacyRequests.get(id);
    if (request.status !== 'open' || request.type !== 'erasure' || !request.memberId)
      throw notFound('member of this request');
    return { member: await c.members.get(request.memberId) };
  }

  r.get(
    '/requests/:id/erase',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'privacy request');
      const { member } = await requestMember(id);
      sendHtml(
        res,
        200,
        eraseConfirmPage(ctxOf(req, 'privacy'), {
          member,
          action: `/admin/privacy/requests/${id}/erase`,
          back: `/admin/privacy/requests/${id}`,
          error: null,
          requestId: id,
        }),
      );
    }),
  );

  r.post(
    '/requests/:id/erase',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'privacy request');
      const { member } = await requestMember(id);
      if (!confirmed(req, member)) {
        return sendHtml(
          res,
          422,
          eraseConfirmPage(ctxOf(req, 'privacy'), {
            member,
            action: `/admin/privacy/requests/${id}/erase`,
            back: `/admin/privacy/requests/${id}`,
            error: 'Adressen du skrev, stemmer ikke med medlemmets adresse. Ingenting er slettet.',
            requestId: id,
          }),
        );
      }
      // The request log erases the member with this address and closes the request in one transaction.
      await c.privacyRequests.update(id, parseBody(updateRequestSchema, { status: 'done', erase: true }));
      res.redirect(303, '/admin/privacy?melding=slettet');
    }),
  );

  r.post(
    '/members/:id/export',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      const doc = await c.privacy.exportMember(id, 'staff');
      res
        .attachment(`medlem-${id}-innsyn.json`)
        .type('application/json')
        .send(JSON.stringify(doc, null, 2));
    }),
  );

  r.post(
    '/members/:id/restrict',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      const restricted = bodyString(req, 'restricted') === 'true';
      await c.privacy.restrict(id, restricted);
      res.redirect(303, `/admin/members/${id}?melding=${restricted ? 'begrenset' : 'opphevet'}`);
    }),
  );

  r.get(
    '/members/:id/erase',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      const member = await c.members.get(id);
      sendHtml(
        res,
        200,
        eraseConfirmPage(ctxOf(req, 'privacy'), {
          member,
          action: `/admin/privacy/members/${id}/erase`,
          back: `/admin/members/${id}`,
          error: null,
        }),
      );
    }),
  );

  r.post(
    '/members/:id/erase',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      const member = await c.members.get(id);
      if (!confirmed(req, member)) {
        return sendHtml(
          res,
          422,
          eraseConfirmPage(ctxOf(req, 'privacy'), {
            member,
            action: `/admin/privacy/members/${id}/erase`,
            back: `/admin/members/${id}`,
            error: member.email
              ? 'Adressen du skrev, stemmer ikke med medlemmets adresse. Ingenting er slettet.'
              : 'Kryss av for å bekrefte. Ingenting er slettet.',
          }),
        );
      }
      const { erased } = await c.privacy.erase(id, 'staff');
      if (!erased) throw notFound('member');
      res.redirect(303, '/admin/members?melding=slettet');
    }),
  );

  return r;
}

/** The confirmation step: the address typed again (or, for a member without one, the box ticked). */
function confirmed(req: Request, member: MemberView): boolean {
  if (!member.email) return bodyString(req, 'confirm') === 'yes';
  const typed = emailSchema.safeParse(bodyString(req, 'confirmEmail'));
  return typed.success && typed.data === member.email;
}
