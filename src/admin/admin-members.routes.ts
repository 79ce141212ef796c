import { Router } from 'express';
import type { Container } from '../container';
import { AppError, type FieldError } from '../errors';
import { handler, idParam, parseQuery } from '../http/validate';
import { listQuerySchema } from '../members/members.schema';
import { ctxOf, queryString, sendHtml } from './admin-http';
import { hasStaffScope } from './session';
import { memberListPage, memberPage, type MemberFilters } from './views/members.views';

const PAGE_SIZE = 25;

/** /admin/members (members:read): search and filter, and one member with the consent history. */
export function adminMemberRoutes(c: Container): Router {
  const r = Router();

  r.get(
    '/',
    handler(async (req, res) => {
      const filters: MemberFilters = {
        email: queryString(req, 'email').trim(),
        status: queryString(req, 'status'),
        source: queryString(req, 'source'),
        partnerId: queryString(req, 'partnerId').trim(),
      };
      const cursor = queryString(req, 'cursor');
      const raw: Record<string, string> = { limit: String(PAGE_SIZE) };
      for (const [k, v] of Object.entries(filters)) if (v) raw[k] = v;
      if (cursor) raw.cursor = cursor;
      let errors: FieldError[] = [];
      let result: Awaited<ReturnType<typeof c.members.list>> = { items: [], nextCursor: null };
      try {
        result = await c.members.list(parseQuery(listQuerySchema, raw));
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 400) throw err;
        errors = err.errors;
      }
      sendHtml(
        res,
        errors.length ? 422 : 200,
        memberListPage(ctxOf(req, 'members'), { filters, ...result, paged: !!cursor, errors }),
      );
    }),
  );

  r.get(
    '/:id',
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      const [member, history] = await Promise.all([c.members.get(id), c.members.consentHistory(id)]);
      sendHtml(
        res,
        200,
        memberPage(ctxOf(req, 'members'), { member, history, canPrivacy: hasStaffScope(req, 'privacy') }),
      );
    }),
  );

  return r;
}
