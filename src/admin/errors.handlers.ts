import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../errors';
import { isConnectionError } from '../db/errors';
import type { AdminDeps } from './admin-deps';
import { sendMessage } from './admin-http';

/** The admin UI's own 404: a page with a way back (JSON for the script). */
export const adminNotFound: RequestHandler = (req, res) => {
  sendMessage(req, res, 404, 'not found', {
    title: 'Fant ikke siden',
    message: 'Siden finnes ikke, eller det du ser etter er slettet.',
    links: [['/admin', 'Til oversikten']],
  });
};

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

/**
 * Errors as pages: a known status gets its Norwegian explanation, anything else is logged and
 * shown as a 500. The logger redacts addresses in `err`, so a driver message quoting data is safe.
 */
export function adminErrorHandler(deps: Pick<AdminDeps, 'logger'>): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (isConnectionError(err)) {
      // The database is away for a moment: say so, and the page works again when it is back.
      deps.logger.warn({ route: `${req.baseUrl}${req.route?.path ?? ''}` }, 'database unreachable');
      res.set('Retry-After', '5');
      return sendMessage(req, res, 503, 'database unreachable', {
        title: 'Tjenesten er midlertidig utilgjengelig',
        message: 'Prøv igjen om litt.',
        links: [['/admin', 'Til oversikten']],
      });
    }
    let status = 500;
    if (err instanceof AppError) status = err.status;
    else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) status = err.status;
    if (status >= 500 && status !== 502) {
      deps.logger.error(
        {
          err: { message: String(err?.message ?? err), stack: err?.stack },
          route: `${req.baseUrl}${req.route?.path ?? ''}`,
        },
        'unhandled error',
      );
      status = 500;
    }
    const [title, message] = STATUS_TITLES[status] ?? [
      'Noe gikk galt',
      'Feilen er logget. Prøv igjen om litt.',
    ];
    // The SMTP reason helps staff (a refused address); other details are English API text.
    const detail = err instanceof AppError && status === 502 ? ` (${err.message})` : '';
    sendMessage(req, res, status, err instanceof AppError ? err.message : 'error', {
      title,
      message: message + detail,
      links: [['/admin', 'Til oversikten']],
    });
  };
}
