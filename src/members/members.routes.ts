import { Router } from 'express';
import { hasScope, requireScope } from '../http/auth';
import { handler, idParam, parseBody, parseQuery } from '../http/validate';
import type { MembersService } from './members.service';
import { leaveSchema, listQuerySchema, rectifySchema, signUpSchema } from './members.schema';
import { auth, problem, type RouteDoc } from '../http/openapi-kit';

/** /v1/members: thin handlers, validate → service → JSON. */
export function membersRoutes(deps: { members: MembersService }): Router {
  const { members } = deps;
  const r = Router();

  r.post(
    '/',
    requireScope('members:write'),
    handler(async (req, res) => {
      const input = parseBody(signUpSchema, req.body);
      const { member, created } = await members.signUp(input);
      // An existing member's profile is not the caller's to read without members:read: the
      // answer to a repeated sign-up then says only which member it is and its status.
      if (created || hasScope(req, 'members:read')) res.status(created ? 201 : 200).json(member);
      else res.status(200).json({ id: member.id, status: member.status });
    }),
  );

  r.get(
    '/',
    requireScope('members:read'),
    handler(async (req, res) => {
      res.json(await members.list(parseQuery(listQuerySchema, req.query)));
    }),
  );

  r.get(
    '/:id',
    requireScope('members:read'),
    handler(async (req, res) => {
      res.json(await members.get(idParam(req.params.id, 'member')));
    }),
  );

  r.get(
    '/:id/consents',
    requireScope('members:read'),
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      await members.get(id);
      res.json({ items: await members.consentHistory(id) });
    }),
  );

  r.patch(
    '/:id',
    requireScope('members:write'),
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      res.json(await members.rectify(id, parseBody(rectifySchema, req.body)));
    }),
  );

  r.post(
    '/:id/unsubscribe',
    requireScope('members:write'),
    handler(async (req, res) => {
      const id = idParam(req.params.id, 'member');
      const { channel } = parseBody(leaveSchema, req.body);
      await members.get(id);
      await members.leave(id, channel);
      res.json(await members.get(id));
    }),
  );

  return r;
}

/** OpenAPI descriptions of these routes. */
export const membersApi: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/members',
    tag: 'members',
    scope: 'members:write',
    summary: 'Sign up (idempotent by normalised address; consent required)',
    body: signUpSchema,
    responses: {
      '201': { description: 'New member', schema: 'Member' },
      '200': {
        description:
          'Existing member; the new consent recorded. The whole Member with members:read, else only { id, status }',
        schema: 'Member',
      },
      '400': problem,
      '422': problem,
      ...auth,
    },
  },
  {
    method: 'get',
    path: '/v1/members',
    tag: 'members',
    scope: 'members:read',
    summary: 'List with filters and cursor pagination',
    query: listQuerySchema,
    responses: { '200': { description: '{ items: Member[], nextCursor }' }, '400': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/members/:id',
    tag: 'members',
    scope: 'members:read',
    summary: 'One member',
    responses: { '200': { description: 'Member', schema: 'Member' }, '404': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/members/:id/consents',
    tag: 'members',
    scope: 'members:read',
    summary: 'Consent history (append-only)',
    responses: { '200': { description: '{ items: ConsentEvent[] }' }, '404': problem, ...auth },
  },
  {
    method: 'patch',
    path: '/v1/members/:id',
    tag: 'members',
    scope: 'members:write',
    summary: 'Rectify names, phone, partner',
    body: rectifySchema,
    responses: {
      '200': { description: 'Member', schema: 'Member' },
      '400': problem,
      '404': problem,
      '409': problem,
      '422': problem,
      ...auth,
    },
  },
  {
    method: 'post',
    path: '/v1/members/:id/unsubscribe',
    tag: 'members',
    scope: 'members:write',
    summary: 'Leave the club (same effect as the link)',
    body: leaveSchema,
    responses: {
      '200': { description: 'Member (anonymous)', schema: 'Member' },
      '404': problem,
      '422': problem,
      ...auth,
    },
  },
];
