import express, { Router } from 'express';
import type { AdminDeps } from './admin-deps';
import { adminHeaders, requirePageScope } from './admin-http';
import { serveAssets } from './assets';
import { loadSession } from './session';
import { logout, requireCsrf, requireStaff, showLogin, submitLogin } from './auth.handlers';
import { showDashboard } from './dashboard.handlers';
import { adminErrorHandler, adminNotFound } from './errors.handlers';
import { adminCampaignRoutes } from './admin-campaigns.routes';
import { adminMemberRoutes } from './admin-members.routes';
import { adminPrivacyRoutes } from './admin-privacy.routes';
import { adminWebhookRoutes } from './webhooks.handlers';
import { adminImportRoutes } from './imports.handlers';

/** The admin web UI at /admin: server-rendered pages, one small script, the owners' services. */
export function adminRoutes(deps: AdminDeps): Router {
  const r = Router();
  r.use(adminHeaders);
  r.use('/assets', serveAssets());
  r.use(express.urlencoded({ extended: false, limit: '512kb', parameterLimit: 2000 }));
  r.use(loadSession(deps.staff.auth));

  r.get('/login', showLogin(deps));
  r.post('/login', submitLogin(deps));

  // Everything below needs a session, and every change a CSRF token.
  r.use(requireStaff);
  // Multipart uploads: the handler checks the CSRF token (a field ahead of the file) before reading the file.
  r.use('/imports', requirePageScope('admin'), adminImportRoutes(deps));
  r.use(requireCsrf);

  r.post('/logout', logout(deps));
  r.get('/', showDashboard(deps));
  r.use('/campaigns', requirePageScope('campaigns'), adminCampaignRoutes(deps));
  r.use('/members', requirePageScope('members:read'), adminMemberRoutes(deps));
  r.use('/privacy', requirePageScope('privacy'), adminPrivacyRoutes(deps));
  r.use('/webhooks', requirePageScope('admin'), adminWebhookRoutes(deps));

  r.use(adminNotFound);
  r.use(adminErrorHandler(deps));
  return r;
}
