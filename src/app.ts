import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Container } from './container';
import { AppError } from './errors';
import { isConnectionError } from './db/errors';
import { docsPage, openApiDocument } from './openapi';
import { authenticate } from './http/auth';
import { membersRoutes } from './members/members.routes';
import { eventsRoutes, webhooksRoutes } from './events/events.routes';
import { campaignsRoutes } from './campaigns/campaigns.routes';
import { campaignSendingRoutes } from './campaigns/campaign-sending.routes';
import { confirmationRoutes } from './members/confirmation.routes';
import { privacyMemberRoutes, privacyRequestRoutes } from './privacy/privacy.routes';
import { unsubscribeRoutes } from './privacy/unsubscribe.routes';
import { privacyLinkRoutes } from './privacy/privacy-link.routes';
import { clickRoutes } from './clicks/clicks.routes';
import { webVersionRoutes } from './campaigns/web-version.routes';
import { adminRoutes } from './admin/admin.routes';
import { bounceWebhookRoutes } from './bounces/webhooks.routes';
import { importsRoutes } from './imports/imports.routes';

const PROBLEM = 'application/problem+json';

/** Builds the HTTP app without listening: tests drive it with supertest. */
export function createApp(c: Container): Express {
  const app = express();
  app.disable('x-powered-by');
  // Never derive or keep client addresses: no proxy trust, no IP in logs (privacy policy).
  app.set('trust proxy', false);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'none'"],
          'style-src': ["'unsafe-inline'"],
          'img-src': ['https:', 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
        },
      },
    }),
  );
  app.use(accessLog(c));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    c.dataSource
      .query('SELECT 1 AS ok')
      .then(() => res.json({ status: 'ready' }))
      .catch(() => sendProblem(res, databaseUnavailable()));
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage());
  });
  app.get('/metrics', (_req, res, next) => {
    c.metrics
      .render()
      .then((m) => res.type(m.contentType).send(m.body))
      .catch(next);
  });

  const v1 = express.Router();
  // Authenticate first: an anonymous caller gets 401 before the service reads up to 512 KB of body.
  v1.use(authenticate(c.clients));
  v1.use(express.json({ limit: '512kb', strict: true, type: ['application/json', 'application/*+json'] }));
  v1.use('/members', membersRoutes({ members: c.members }));
  v1.use('/members', privacyMemberRoutes({ privacy: c.privacy }));
  v1.use('/privacy-requests', privacyRequestRoutes({ privacyRequests: c.privacyRequests }));
  v1.use('/campaigns', campaignsRoutes({ campaigns: c.campaigns }));
  v1.use('/campaigns', campaignSendingRoutes({ sending: c.sending }));
  v1.use('/events', eventsRoutes({ events: c.events }));
  v1.use('/webhooks', webhooksRoutes({ webhooks: c.webhooks }));
  // The CSV body is streamed by the route itself (express.json above leaves text/csv alone).
  v1.use('/imports', importsRoutes({ imports: c.imports }));
  v1.use((_req, _res, next) => next(new AppError(404, 'not-found', 'Not found', 'No such route')));
  app.use('/v1', v1, problemHandler(c));

  app.use('/c', confirmationRoutes({ members: c.members, config: c.config }));
  app.use('/u', unsubscribeRoutes({ privacy: c.privacy, config: c.config }));
  app.use('/p', privacyLinkRoutes({ privacy: c.privacy, config: c.config }));
  // Newsletter links and the web version (CONTRACT §12).
  app.use(
    '/r',
    clickRoutes({
      links: c.campaigns,
      counts: c.clicks,
      testLinks: c.testLinks,
      config: c.config,
      logger: c.logger,
    }),
  );
  app.use('/n', webVersionRoutes({ campaigns: c.campaigns, config: c.config }));
  // Bounce and complaint webhooks of the mail providers (CONTRACT §9); signed, no bearer token.
  app.use(
    '/webhooks',
    bounceWebhookRoutes({ bounces: c.bounces, providers: c.bounceWebhooks, logger: c.logger }),
  );
  // Staff web UI: own CSP (one script of its own), session cookies, CSRF tokens (src/admin).
  app.use('/admin', adminRoutes(c));

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  app.use(pageErrorHandler(c));
  return app;
}

function problemHandler(c: Container): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let e: AppError;
    if (err instanceof AppError) e = err;
    else if (err?.type === 'entity.parse.failed')
      e = new AppError(400, 'malformed-json', 'Malformed JSON', 'The body is not valid JSON');
    else if (err?.type === 'entity.too.large')
      e = new AppError(413, 'too-large', 'Payload too large', 'The body is too large');
    else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500)
      e = new AppError(err.status, 'bad-request', 'Bad request', 'The request could not be read');
    else if (isConnectionError(err)) {
      logUnavailable(c, err, req);
      e = databaseUnavailable();
    } else {
      logUnhandled(c, err, req);
      e = new AppError(500, 'internal', 'Internal server error', 'Something went wrong; it has been logged');
    }
    sendProblem(res, e);
  };
}

function sendProblem(res: express.Response, e: AppError): void {
  if (e.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
  res
    .status(e.status)
    .type(PROBLEM)
    .send(
      JSON.stringify({
        type: `https://kundeklubb.cosmenor.no/problems/${e.type}`,
        title: e.title,
        status: e.status,
        detail: e.message,
        errors: e.errors,
      }),
    );
}

/** While the database is away (restarting, unreachable) every request that needs it answers 503; it serves again when it is back. */
const RETRY_AFTER_SECONDS = 5;
const databaseUnavailable = () =>
  new AppError(
    503,
    'unavailable',
    'Service unavailable',
    'The database cannot be reached; try again shortly',
  );

function pageErrorHandler(c: Container): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (isConnectionError(err)) {
      logUnavailable(c, err, req);
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(503).type('text/plain').send('Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt.');
      return;
    }
    const status =
      typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logUnhandled(c, err, req);
    res
      .status(status)
      .type('text/plain')
      .send(status === 500 ? 'Noe gikk galt. Prøv igjen senere.' : 'Ugyldig forespørsel.');
  };
}

/** An outage is expected and says nothing new per request: one warning line, no stack. */
function logUnavailable(c: Container, err: unknown, req: express.Request): void {
  c.logger.warn(
    { err: String((err as Error)?.message ?? err), route: routeOf(req) },
    'database unavailable; answered 503',
  );
}

/**
 * Logs an unexpected error for both handlers. Driver messages can quote the data, e.g. MySQL's
 * "Duplicate entry 'kari@example.no' for key …": the logger redacts addresses in every `err`.
 */
function logUnhandled(c: Container, err: unknown, req: express.Request): void {
  const e = err as { message?: unknown; stack?: unknown } | null | undefined;
  const stack = typeof e?.stack === 'string' ? e.stack : undefined;
  c.logger.error(
    { err: { message: String(e?.message ?? err), stack }, route: routeOf(req) },
    'unhandled error',
  );
}

/** The matched route pattern, never the URL: paths carry tokens. */
function routeOf(req: express.Request): string {
  return `${req.baseUrl}${req.route?.path ?? ''}` || 'unmatched';
}

/** One line per request: method, route pattern, status, duration. No IP, no user agent, no URL. */
function accessLog(c: Container): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const route = routeOf(req);
      c.metrics.observeHttp(req.method, route, res.statusCode, ms);
      c.logger.debug(
        { method: req.method, route, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'http',
      );
    });
    next();
  };
}
