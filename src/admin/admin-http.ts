import type { Request, RequestHandler, Response } from 'express';
import type { Scope } from '../clients/api-client.entity';
import { messagePage } from './views/auth.views';
import type { PageContext, Section } from './views/layout';
import { hasStaffScope } from './session';

/** Short confirmations after a redirect (`?melding=key`): fixed texts, so nothing from the URL is echoed. */
const FLASH: Record<string, string | ((email: string) => string)> = {
  lagret: 'Utkastet er lagret.',
  opprettet: 'Utkastet er opprettet.',
  kopiert: 'Kopien er laget. Du redigerer nå kopien.',
  'test-sendt': (email) => `Testen er sendt til ${email}.`,
  'sending-startet': 'Utsendelsen er startet.',
  planlagt: 'Utsendelsen er planlagt.',
  pauset: 'Utsendelsen er satt på pause.',
  fortsatt: 'Utsendelsen fortsetter.',
  avbrutt: 'Utsendelsen er avbrutt.',
  registrert: 'Forespørselen er registrert.',
  lukket: 'Forespørselen er lukket.',
  slettet: 'Medlemmet er slettet.',
  begrenset: 'Behandlingen er begrenset.',
  opphevet: 'Begrensningen er opphevet.',
  rettet: 'Opplysningene er rettet.',
  'logget-ut': 'Du er logget ut.',
  'webhook-slettet': 'Mottakeren er slettet.',
};

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

export const adminHeaders: RequestHandler = (_req, res, next) => {
  res.set('Content-Security-Policy', ADMIN_CSP);
  res.set('Cache-Control', 'no-store');
  res.set('X-Robots-Tag', 'noindex, nofollow');
  next();
};

export function queryString(req: Request, key: string): string {
  const v = (req.query as Record<string, unknown>)[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

export function bodyString(req: Request, key: string): string {
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(body, key)) return '';
  const v = body[key];
  if (typeof v === 'string') return v;
  return Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
}

export function ctxOf(req: Request, section: Section = null): PageContext {
  const staff = req.staff ?? null;
  const key = queryString(req, 'melding');
  const f = Object.prototype.hasOwnProperty.call(FLASH, key) ? FLASH[key] : null;
  return {
    user: staff?.user ?? null,
    csrf: staff?.session.csrfToken ?? null,
    section,
    flash: typeof f === 'function' ? f(staff?.user.email ?? '') : f,
  };
}

export function sendHtml(res: Response, status: number, body: string): void {
  res.status(status).type('html').send(body);
}

export function wantsJson(req: Request): boolean {
  return req.path.endsWith('.json') || (req.get('accept') ?? '').includes('application/json');
}

/**
 * A short status page for people (what happened, a way on), or `{ error }` for the script's
 * fetches: the forbidden, refused-form, not-found and error pages all go through here.
 */
export function sendMessage(
  req: Request,
  res: Response,
  status: number,
  jsonError: string,
  o: { title: string; message: string; links: Array<[string, string]> },
): void {
  if (wantsJson(req)) {
    res.status(status).json({ error: jsonError });
    return;
  }
  sendHtml(res, status, messagePage(ctxOf(req), o));
}

export function forbiddenPage(req: Request, res: Response): void {
  sendMessage(req, res, 403, 'forbidden', {
    title: 'Ingen tilgang',
    message: 'Rollen din gir ikke tilgang til denne siden. Spør en administrator hvis du trenger det.',
    links: [['/admin', 'Til oversikten']],
  });
}

/** A page for a scope the staff member's role lacks → 403 page. */
export function requirePageScope(scope: Scope): RequestHandler {
  return (req, res, next) => {
    if (!hasStaffScope(req, scope)) return forbiddenPage(req, res);
    next();
  };
}
