import type { Request, RequestHandler } from 'express';
import { AppError, type FieldError } from '../errors';
import { handler, idParam, parseQuery } from '../http/validate';
import { memberSearchQuerySchema } from '../members/members.schema';
import type { AdminDeps } from './admin-deps';
import { ctxOf, queryString, sendHtml } from './admin-http';
import { hasStaffScope } from './session';
import { memberListPage, memberPage, type MemberFilters } from './views/members.views';

/** /admin/members (members:read): search and filter, and one member with the consent history. */

type MembersDeps = Pick<AdminDeps, 'members'>;
type MemberSearch = Awaited<ReturnType<MembersDeps['members']['search']>>;

const PAGE_SIZE = 25;

/**
 * GET /: search by part of a name or address (`q`), filtered by status, source, salon; `email`
 * (the whole address) still works for links. A value the schema refuses is a 422 with the reason.
 */
export function listMembers(deps: MembersDeps): RequestHandler {
  return handler(async (req, res) => {
    const filters = memberFilters(req);
    const cursor = queryString(req, 'cursor');
    const raw: Record<string, string> = { limit: String(PAGE_SIZE) };
    for (const [k, v] of Object.entries(filters)) if (v) raw[k] = v;
    if (cursor) raw.cursor = cursor;
    let errors: FieldError[] = [];
    let result: MemberSearch = { items: [], nextCursor: null, total: null };
    try {
      result = await deps.members.search(parseQuery(memberSearchQuerySchema, raw));
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 400) throw err;
      errors = err.errors;
    }
    sendHtml(
      res,
      errors.length ? 422 : 200,
      memberListPage(ctxOf(req, 'members'), { filters, ...result, paged: !!cursor, errors }),
    );
  });
}

/** GET /:id: the profile and consent history; privacy staff also get export, correction, restriction, erasure. */
export function showMember(deps: MembersDeps): RequestHandler {
  return handler(async (req, res) => {
    const id = idParam(req.params.id, 'member');
    const [member, history] = await Promise.all([deps.members.get(id), deps.members.consentHistory(id)]);
    sendHtml(
      res,
      200,
      memberPage(ctxOf(req, 'members'), { member, history, canPrivacy: hasStaffScope(req, 'privacy') }),
    );
  });
}

function memberFilters(req: Request): MemberFilters {
  return {
    q: queryString(req, 'q').trim(),
    email: queryString(req, 'email').trim(),
    status: queryString(req, 'status'),
    source: queryString(req, 'source'),
    partnerId: queryString(req, 'partnerId').trim(),
  };
}
