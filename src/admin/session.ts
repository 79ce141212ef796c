import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Scope } from '../clients/api-client.entity';
import type { Config } from '../config';
import { roleHasScope } from '../staff/roles';
import type { ResolvedSession, StaffAuthService } from '../staff/staff-auth.service';
import { SESSION_ABSOLUTE_MS } from '../staff/staff-auth.service';

/**
 * The admin UI's HTTP side of a staff session: cookies, CSRF tokens, the middleware that attaches
 * `req.staff`. The sessions themselves (store, expiry, purge) belong to the staff room.
 */

declare module 'express-serve-static-core' {
  interface Request {
    staff?: ResolvedSession;
  }
}

export const SESSION_COOKIE = 'kk_staff';
/** Double-submit token for the login form, the one form posted before there is a session. */
export const LOGIN_COOKIE = 'kk_login';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function readCookie(req: Request, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

interface CookieOptions {
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
}

/** httpOnly, SameSite=Strict, scoped to its path; Secure when the service is reached over https. */
export function setCookie(res: Response, name: string, value: string, o: CookieOptions): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${o.path}`,
    `Max-Age=${o.maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (o.secure) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

export const secureCookies = (config: Config) => config.publicUrl.startsWith('https:');

export function setSessionCookie(res: Response, config: Config, token: string): void {
  setCookie(res, SESSION_COOKIE, token, {
    path: '/admin',
    maxAgeSeconds: SESSION_ABSOLUTE_MS / 1000,
    secure: secureCookies(config),
  });
}

export function clearSessionCookie(res: Response, config: Config): void {
  setCookie(res, SESSION_COOKIE, '', { path: '/admin', maxAgeSeconds: 0, secure: secureCookies(config) });
}

export function sameToken(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Attaches `req.staff` when the cookie names a live session. */
export function loadSession(auth: StaffAuthService): RequestHandler {
  return (req, _res, next) => {
    const token = readCookie(req, SESSION_COOKIE);
    if (!token) return next();
    auth
      .resolve(token)
      .then((s) => {
        if (s) req.staff = s;
        next();
      })
      .catch(next);
  };
}

/** The token a request carries: the hidden form field, or the header for fetch. */
export function csrfTokenOf(req: Request): string | null {
  const header = req.get(CSRF_HEADER);
  if (header) return header;
  const body = req.body as Record<string, unknown> | undefined;
  const field = body && Object.prototype.hasOwnProperty.call(body, CSRF_FIELD) ? body[CSRF_FIELD] : undefined;
  return typeof field === 'string' ? field : null;
}

export const hasStaffScope = (req: Request, scope: Scope) =>
  !!req.staff && roleHasScope(req.staff.user.role, scope);
