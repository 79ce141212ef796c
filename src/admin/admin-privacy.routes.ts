import { Router } from 'express';
import type { AdminDeps } from './admin-deps';
import { confirmErase, memberErasure, requestErasure, showEraseConfirm } from './erase-confirm.handlers';
import {
  closeRequest,
  exportMember,
  rectifyMember,
  registerRequest,
  restrictMember,
  showPrivacyLog,
  showRectify,
  showRequest,
} from './privacy.handlers';

/** /admin/privacy (privacy): the request log, and export, correction, restriction and erasure of a member. */
export function adminPrivacyRoutes(deps: AdminDeps): Router {
  const r = Router();
  const fromRequest = requestErasure(deps);
  const fromMember = memberErasure(deps);
  r.get('/', showPrivacyLog(deps));
  r.post('/requests', registerRequest(deps));
  r.get('/requests/:id', showRequest(deps));
  r.post('/requests/:id/close', closeRequest(deps));
  r.get('/requests/:id/erase', showEraseConfirm(fromRequest));
  r.post('/requests/:id/erase', confirmErase(fromRequest));
  r.post('/members/:id/export', exportMember(deps));
  r.post('/members/:id/restrict', restrictMember(deps));
  r.get('/members/:id/rectify', showRectify(deps));
  r.post('/members/:id/rectify', rectifyMember(deps));
  r.get('/members/:id/erase', showEraseConfirm(fromMember));
  r.post('/members/:id/erase', confirmErase(fromMember));
  return r;
}
