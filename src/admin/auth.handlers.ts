import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { handler, zodErrors } from '../http/validate';
import { loginFormSchema } from '../staff/login.schema';
import type { AdminDeps } from './admin-deps';
import { bodyString, ctxOf, queryString, sendHtml, sendMessage, wantsJson } from './admin-http';
import {
  clearSessionCookie,
  csrfTokenOf,
  LOGIN_COOKIE,
  readCookie,
  sameToken,
  secureCookies,
  setCookie,
  setSessionCookie,
} from './session';
import { loginPage } from './views/auth.views';

/** Only a path inside the admin UI: never another host (`//evil`), never a backslash trick. */
export function safeNext(next: string): string {
  return /^\/admin(?:[/?][A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*)?$/.test(next) && !next.includes('//')
    ? next
    : '/admin';
}

/** GET /login: the form, with a fresh double-submit token in a cookie scoped to the form. */
export function showLogin(deps: Pick<AdminDeps, 'config'>): RequestHandler {
  return (req, res) => {
    if (req.staff) return res.redirect(303, '/admin');
    const token = crypto.randomBytes(32).toString('base64url');
    setCookie(res, LOGIN_COOKIE, token, {
      path: '/admin/login',
      maxAgeSeconds: 3600,
      secure: secureCookies(deps.config),
    });
    sendHtml(
      res,
      200,
      loginPage({
        loginToken: token,
        email: '',
        next: safeNext(queryString(req, 'next')),
        error: ctxOf(req).flash ?? null,
      }),
    );
  };
}

/**
 * POST /login: 422 naming the empty field (no attempt, nothing counted toward the lockout), 429
 * while the account is locked, 401 for a wrong pair, else a session and the page asked for.
 */
export function submitLogin(deps: Pick<AdminDeps, 'config' | 'staff'>): RequestHandler {
  return handler(async (req, res) => {
    // The one form without a session: a double-submit token (cookie = field) stands in for the session's.
    const token = readCookie(req, LOGIN_COOKIE);
    if (!sameToken(token, bodyString(req, '_csrf'))) return refuseForm(req, res);
    const email = bodyString(req, 'email').trim();
    const next = safeNext(bodyString(req, 'next'));
    const form = loginFormSchema.safeParse({ email, password: bodyString(req, 'password') });
    if (!form.success) {
      const errors = zodErrors(form.error);
      return sendHtml(res, 422, loginPage({ loginToken: token!, email, next, errors }));
    }
    const outcome = await deps.staff.auth.login(form.data.email, form.data.password);
    if (outcome.kind === 'limited') {
      res.set('Retry-After', String(outcome.retryAfterSeconds));
      const minutes = Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60));
      const error = `For mange mislykkede forsøk. Prøv igjen om ${minutes} minutter.`;
      return sendHtml(res, 429, loginPage({ loginToken: token!, email, next, error }));
    }
    if (outcome.kind === 'invalid' || outcome.kind === 'incomplete') {
      const error = 'Feil e-postadresse eller passord.';
      return sendHtml(res, 401, loginPage({ loginToken: token!, email, next, error }));
    }
    setCookie(res, LOGIN_COOKIE, '', {
      path: '/admin/login',
      maxAgeSeconds: 0,
      secure: secureCookies(deps.config),
    });
    setSessionCookie(res, deps.config, outcome.token);
    res.redirect(303, next);
  });
}

/** Every page past the login needs a session: a page visit goes to the login, a form is refused. */
export const requireStaff: RequestHandler = (req, res, next) => {
  if (req.staff) return next();
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (wantsJson(req)) return res.status(401).json({ error: 'login required' });
    return res.redirect(303, `/admin/login?next=${encodeURIComponent(safeNext(req.originalUrl))}`);
  }
  refuseForm(req, res);
};

/** Every change carries the session's CSRF token (form field or header). */
export const requireCsrf: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  if (!sameToken(csrfTokenOf(req), req.staff!.session.csrfToken)) return refuseForm(req, res);
  next();
};

/** POST /logout: ends the session here and in the database. */
export function logout(deps: Pick<AdminDeps, 'config' | 'staff'>): RequestHandler {
  return handler(async (req, res) => {
    await deps.staff.auth.logout(req.staff!.session);
    clearSessionCookie(res, deps.config);
    res.redirect(303, '/admin/login?melding=logget-ut');
  });
}

function refuseForm(req: Request, res: Response): void {
  sendMessage(req, res, 403, 'invalid or missing CSRF token', {
    title: 'Skjemaet ble avvist',
    message:
      'Skjemaet manglet en gyldig sikkerhetsnøkkel, eller økten din er utløpt. Ingenting er endret. Last siden på nytt og prøv igjen.',
    links: [[req.staff ? '/admin' : '/admin/login', req.staff ? 'Til oversikten' : 'Logg inn']],
  });
}
