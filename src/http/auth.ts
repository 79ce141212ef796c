import type { Request, RequestHandler } from 'express';
import type { ClientsService, Principal } from '../clients/clients.service';
import type { Scope } from '../clients/api-client.entity';
import { forbidden, unauthorized } from '../errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Bearer token → principal. Missing or unknown token → 401 (CONTRACT §2). */
export function authenticate(clients: ClientsService): RequestHandler {
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
export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    if (!hasScope(req, scope)) return next(forbidden(scope));
    next();
  };
}

export function hasScope(req: Request, scope: Scope): boolean {
  const scopes = req.principal?.scopes;
  return !!scopes && (scopes.has(scope) || scopes.has('admin'));
}
