import { Router } from 'express';
import { hasScope, requireScope } from '../http/auth';
import { handler, idParam, parseBody, parseQuery } from '../http/validate';
import type { MembersService } from './members.service';
import { leaveSchema, listQuerySchema, rectifySchema, signUpSchema } from './members.schema';

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
