import crypto from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Container } from '../container';
import { AppError } from '../errors';
import { handler } from '../http/validate';
import { bodyString, ctxOf, queryString, requirePageScope, sendHtml, wantsJson } from './admin-http';
import { serveAssets } from './assets';
import { adminCampaignRoutes } from './admin-campaigns.routes';
import { adminMemberRoutes } from './admin-members.routes';
import { adminPrivacyRoutes } from './admin-privacy.routes';
import {
  clearSessionCookie,
  csrfTokenOf,
  LOGIN_COOKIE,
  loadSession,
  readCookie,
  sameToken,
  secureCookies,
  setCookie,
  setSessionCookie,
} from './session';
import { loginPage, messagePage } from './views/auth.views';
import { dashboardPage } from './views/dashboard.views';
import type { CampaignStatus } from '../campaigns/campaign.entity';

/**
 * Its own CSP: the API and the public pages run no script at all; the admin UI runs exactly one
 * script file of its own. Inline styles are allowed for the newsletter preview (an `<iframe
 * sandbox srcdoc>` inherits this policy) and the server-drawn progress widths.
 */
const ADMIN_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const adminHeaders: RequestHandler = (_req, res, next) => {
  res.set('Content-Security-Policy', ADMIN_CSP);
  res.set('Cache-Control', 'no-store');
  res.set('X-Robots-Tag', 'noindex, nofollow');
  next();
};

/** Only a path inside the admin UI: never another host (`//evil`), never a backslash trick. */
export function safeNext(next: string): string {
  return /^\/admin(?:[/?][A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*)?$/.test(next) && !next.includes('//')
    ? next
    : '/admin';
}

/** The admin web UI at /admin: server-rendered pages, one small script, the container's services. */
export function adminRoutes(c: Container): Router {
  const r = Router();
  const { auth } = c.admin;
  r.use(adminHeaders);
  r.use('/assets', serveAssets());
  r.use(express.urlencoded({ extended: false, limit: '512kb', parameterLimit: 2000 }));
  r.use(loadSession(auth));

  // ---- login and logout ----

  r.get('/login', (req, res) => {
    if (req.staff) return res.redirect(303, '/admin');
    const token = crypto.randomBytes(32).toString('base64url');
    setCookie(res, LOGIN_COOKIE, token, {
      path: '/admin/login',
      maxAgeSeconds: 3600,
      secure: secureCookies(c.config),
    });
    const flash = ctxOf(req).flash;
    sendHtml(
      res,
      200,
      loginPage({
        loginToken: token,
        email: '',
        next: safeNext(queryString(req, 'next')),
        error: flash ?? null,
      }),
    );
  });

  r.post(
    '/login',
    handler(async (req, res) => {
      // The one form without a session: a double-submit token (cookie = field) stands in for the session's.
      const token = readCookie(req, LOGIN_COOKIE);
      if (!sameToken(token, bodyString(req, '_csrf'))) return refuseForm(req, res);
      const email = bodyString(req, 'email').trim();
      const next = safeNext(bodyString(req, 'next'));
      const outcome = await auth.login(email, bodyString(req, 'password'));
      if (outcome.kind === 'limited') {
        res.set('Retry-After', String(outcome.retryAfterSeconds));
        const minutes = Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60));
        return sendHtml(
          res,
          429,
          loginPage({
            loginToken: token!,
            email,
            next,
            error: `For mange mislykkede forsøk. Prøv igjen om ${minutes} minutter.`,
          }),
        );
      }
      if (outcome.kind === 'invalid') {
        return sendHtml(
          res,
          401,
          loginPage({ loginToken: token!, email, next, error: 'Feil e-postadresse eller passord.' }),
        );
      }
      setCookie(res, LOGIN_COOKIE, '', {
        path: '/admin/login',
        maxAgeSeconds: 0,
        secure: secureCookies(c.config),
      });
      setSessionCookie(res, c.config, outcome.token);
      res.redirect(303, next);
    }),
  );

  // ---- everything below needs a session, and every change a CSRF token ----

  r.use((req, res, next) => {
    if (req.staff) return next();
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (wantsJson(req)) return res.status(401).json({ error: 'login required' });
      return res.redirect(303, `/admin/login?next=${encodeURIComponent(safeNext(req.originalUrl))}`);
    }
    refuseForm(req, res);
  });

  r.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (!sameToken(csrfTokenOf(req), req.staff!.session.csrfToken)) return refuseForm(req, res);
    next();
  });

  r.post(
    '/logout',
    handler(async (req, res) => {
      await auth.logout(req.staff!.session);
      clearSessionCookie(res, c.config);
      res.redirect(303, '/admin/login?melding=logget-ut');
    }),
  );

  r.get(
    '/',
    handler(async (req, res) => {
      const [counts, weeks, campaigns, recent] = await Promise.all([
        c.admin.stats.memberCounts(),
        c.admin.stats.weeklyConsent(12),
        campaignsInProgress(c),
        c.campaigns.list({ status: 'sent', limit: 3 }),
      ]);
      sendHtml(
        res,
        200,
        dashboardPage(ctxOf(req, 'dashboard'), { counts, weeks, campaigns, recent: recent.items }),
      );
    }),
  );

  r.use('/campaigns', requirePageScope('campaigns'), adminCampaignRoutes(c));
  r.use('/members', requirePageScope('members:read'), adminMemberRoutes(c));
  r.use('/privacy', requirePageScope('privacy'), adminPrivacyRoutes(c));

  r.use((req, res) => {
    if (wantsJson(req)) return res.status(404).json({ error: 'not found' });
    sendHtml(
      res,
      404,
      messagePage(ctxOf(req), {
        title: 'Fant ikke siden',
        message: 'Siden finnes ikke, eller det du ser etter er slettet.',
        links: [['/admin', 'Til oversikten']],
      }),
    );
  });
  r.use(adminErrorHandler(c));
  return r;
}

function refuseForm(req: express.Request, res: express.Response): void {
  if (wantsJson(req)) {
    res.status(403).json({ error: 'invalid or missing CSRF token' });
    return;
  }
  sendHtml(
    res,
    403,
    messagePage(ctxOf(req), {
      title: 'Skjemaet ble avvist',
      message:
        'Skjemaet manglet en gyldig sikkerhetsnøkkel, eller økten din er utløpt. Ingenting er endret. Last siden på nytt og prøv igjen.',
      links: [[req.staff ? '/admin' : '/admin/login', req.staff ? 'Til oversikten' : 'Logg inn']],
    }),
  );
}

async function campaignsInProgress(c: Container) {
  const statuses: CampaignStatus[] = ['sending', 'paused', 'scheduled'];
  const lists = await Promise.all(statuses.map((status) => c.campaigns.list({ status, limit: 10 })));
  const items = lists.flatMap((l) => l.items);
  return Promise.all(
    items.map(async (campaign) => ({ campaign, stats: await c.delivery.stats(campaign.id) })),
  );
}

const STATUS_TITLES: Record<number, [string, string]> = {
  400: ['Ugyldig forespørsel', 'Forespørselen kunne ikke leses.'],
  404: ['Fant ikke siden', 'Det du ser etter finnes ikke, eller er slettet.'],
  409: [
    'Kunne ikke utføres',
    'Handlingen passer ikke med tilstanden akkurat nå. Last siden på nytt og prøv igjen.',
  ],
  413: ['For stort skjema', 'Skjemaet er for stort til å sendes.'],
  502: ['E-posten ble ikke sendt', 'E-posttjeneren avviste meldingen.'],
};

function adminErrorHandler(c: Container): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    if (err instanceof AppError) status = err.status;
    else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) status = err.status;
    if (status >= 500 && status !== 502) {
      c.logger.error(
        {
          err: { message: String(err?.message ?? err), stack: err?.stack },
          route: `${req.baseUrl}${req.route?.path ?? ''}`,
        },
        'unhandled error',
      );
      status = 500;
    }
    if (wantsJson(req))
      return res.status(status).json({ error: err instanceof AppError ? err.message : 'error' });
    const [title, message] = STATUS_TITLES[status] ?? [
      'Noe gikk galt',
      'Feilen er logget. Prøv igjen om litt.',
    ];
    // The SMTP reason helps staff (a refused address); other details are English API text.
    const detail = err instanceof AppError && status === 502 ? ` (${err.message})` : '';
    sendHtml(
      res,
      status,
      messagePage(ctxOf(req), { title, message: message + detail, links: [['/admin', 'Til oversikten']] }),
    );
  };
}
