import type { Request, RequestHandler } from 'express';
import { notFound } from '../errors';
import { handler, idParam, parseBody } from '../http/validate';
import { emailSchema } from '../members/members.schema';
import type { MemberView } from '../members/members.service';
import { updateRequestSchema } from '../privacy/privacy.schema';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, queryString, sendHtml } from './admin-http';
import { eraseConfirmPage } from './views/erase-confirm.views';

/**
 * The one erase-confirm flow, from the member page and from an open erasure request: a page that
 * names the member, and nothing is erased until the address is typed again (or, for a member
 * without one, the box is ticked). The two places differ only in the target below.
 */
export interface ErasureTarget {
  member: MemberView;
  /** The confirm page's own path: GET shows it, POST confirms. */
  action: string;
  /** Where "Avbryt" leads. */
  back: string;
  /** Set when the erasure closes this privacy request too. */
  requestId?: number;
  /** The erasure itself, once confirmed. */
  erase(): Promise<void>;
  /** Where to go afterwards, with its flash. */
  done: string;
}

/** Finds the target a request names; a missing one is a 404. */
export type FindErasureTarget = (req: Request) => Promise<ErasureTarget>;

/** GET: the confirm page. */
export function showEraseConfirm(find: FindErasureTarget): RequestHandler {
  return handler(async (req, res) => {
    const target = await find(req);
    sendHtml(res, 200, eraseConfirmPage(ctxOf(req, 'privacy'), { ...target, error: null }));
  });
}

/** POST: erases when confirmed, else the page again (422) and nothing is erased. */
export function confirmErase(find: FindErasureTarget): RequestHandler {
  return handler(async (req, res) => {
    const target = await find(req);
    if (!confirmed(req, target.member)) {
      const error = target.member.email
        ? 'Adressen du skrev, stemmer ikke med medlemmets adresse. Ingenting er slettet.'
        : 'Kryss av for å bekrefte. Ingenting er slettet.';
      return sendHtml(res, 422, eraseConfirmPage(ctxOf(req, 'privacy'), { ...target, error }));
    }
    await target.erase();
    res.redirect(303, target.done);
  });
}

/**
 * /admin/privacy/members/:id/erase, from the member page, or from a request of another type
 * (`?request=`), which «Avbryt» returns to.
 */
export function memberErasure(deps: Pick<AdminDeps, 'members' | 'privacy'>): FindErasureTarget {
  return async (req) => {
    const id = idParam(req.params.id, 'member');
    const raw = queryString(req, 'request');
    const requestId = raw ? idParam(raw, 'privacy request') : undefined;
    return {
      member: await deps.members.get(id),
      action: `/admin/privacy/members/${id}/erase${requestId ? `?request=${requestId}` : ''}`,
      back: requestId ? `/admin/privacy/requests/${requestId}` : `/admin/members/${id}`,
      done: '/admin/members?melding=slettet',
      erase: async () => {
        const { erased } = await deps.privacy.erase(id, 'staff');
        if (!erased) throw notFound('member');
      },
    };
  };
}

/** /admin/privacy/requests/:id/erase: an open erasure request whose address belongs to a member. */
export function requestErasure(deps: Pick<AdminDeps, 'members' | 'privacyRequests'>): FindErasureTarget {
  return async (req) => {
    const id = idParam(req.params.id, 'privacy request');
    const request = await deps.privacyRequests.get(id);
    if (request.status !== 'open' || request.type !== 'erasure' || !request.memberId)
      throw notFound('member of this request');
    return {
      member: await deps.members.get(request.memberId),
      action: `/admin/privacy/requests/${id}/erase`,
      back: `/admin/privacy/requests/${id}`,
      requestId: id,
      done: '/admin/privacy?melding=slettet',
      // The request log erases the member with this address and closes the request in one transaction.
      erase: async () => {
        await deps.privacyRequests.update(
          id,
          parseBody(updateRequestSchema, { status: 'done', erase: true }),
        );
      },
    };
  };
}

/** The address typed again (or, for a member without one, the box ticked). */
function confirmed(req: Request, member: MemberView): boolean {
  if (!member.email) return bodyString(req, 'confirm') === 'yes';
  const typed = emailSchema.safeParse(bodyString(req, 'confirmEmail'));
  return typed.success && typed.data === member.email;
}
