import { Router } from 'express';
import type { AdminDeps } from './admin-deps';
import { listMembers, showMember } from './members.handlers';

/** /admin/members (members:read): search and filter, and one member with the consent history. */
export function adminMemberRoutes(deps: AdminDeps): Router {
  const r = Router();
  r.get('/', listMembers(deps));
  r.get('/:id', showMember(deps));
  return r;
}
