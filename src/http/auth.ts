import type { Request, RequestHandler } from 'express';
import { forbidden, unauthorized } from '../errors';

/** Who is calling: an API client and its scopes (CONTRACT §2). `admin` holds every scope. */
export interface Principal {
  clientId: number;
  name: string;
  scopes: ReadonlySet<string>;
}

/** Turns a bearer token into a principal, or null when it is unknown or revoked (the clients room). */
export interface Authenticator {
  authenticate(token: string): Promise<Principal | null>;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Bearer token → principal. Missing or unknown token → 401 (CONTRACT §2). */
export function authenticate(clients: Authenticator): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S{10,200})$/i.exec(header);
    if (!match) return next(unauthorized());
    clients
      .authenticate(match[1])
      .then((principal) => {
        if (!principal) return next(unauthorized());
        req.principal = principal;
        next();
      })
      .catch(next);
  };
}

/** The principal must hold `scope` (or `admin`, which holds everything); otherwise 403. */
export function requireScope(scope: string): RequestHandler {
  return (req, _res, next) => {
    if (!hasScope(req, scope)) return next(forbidden(scope));
    next();
  };
}

export function hasScope(req: Request, scope: string): boolean {
  const scopes = req.principal?.scopes;
  return !!scopes && (scopes.has(scope) || scopes.has('admin'));
}
