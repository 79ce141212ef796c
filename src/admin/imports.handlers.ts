import busboy from 'busboy';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors';
import { handler, idParam } from '../http/validate';
import type { ReceivedFile } from '../imports/csv-file';
import { WITHOUT_CONSENT, type WithoutConsent } from '../imports/imports.schema';
import { declaredLength } from '../imports/imports.routes';
import type { AdminDeps } from './admin-deps';
import { ctxOf, sendHtml } from './admin-http';
import { requireCsrf } from './auth.handlers';
import { CSRF_HEADER } from './session';
import { checkPage, fileProblemText, importPage, importsPage } from './views/imports.views';

type ImportDeps = Pick<AdminDeps, 'imports'>;

/** Room for the form's other parts around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * /admin/imports (admin): upload → the dry run's report → «Importer» with the same file → the
 * progress, then the final report. Mounted before the admin's CSRF check: the uploads are
 * multipart, and their token (a form field sent ahead of the file) is checked here before a byte
 * of the file is read.
 */
export function adminImportRoutes(deps: ImportDeps): Router {
  const r = Router();
  r.get('/', showImports(deps));
  r.post('/check', checkImport(deps));
  r.post('/', startImport(deps));
  r.get('/:id/status.json', importStatus(deps));
  r.get('/:id', showImport(deps));
  return r;
}

export function showImports(deps: ImportDeps): RequestHandler {
  return handler(async (req, res) => {
    sendHtml(
      res,
      200,
      importsPage(ctxOf(req, 'imports'), {
        maxBytes: deps.imports.maxBytes,
        items: await deps.imports.list(),
      }),
    );
  });
}

/** POST /check: the dry run of the uploaded file; nothing is written and the file is deleted. */
export function checkImport(deps: ImportDeps): RequestHandler {
  return uploadHandler(deps, async (req, res) => {
    const upload = await receiveUpload(deps, req, res);
    if (!upload) return;
    const report = await deps.imports.dryRun(upload.file, { withoutConsent: upload.withoutConsent });
    sendHtml(res, 200, checkPage(ctxOf(req, 'imports'), { report }));
  });
}

/** POST /: the import of the file just checked (the same SHA-256), in the background. */
export function startImport(deps: ImportDeps): RequestHandler {
  return uploadHandler(deps, async (req, res) => {
    const upload = await receiveUpload(deps, req, res);
    if (!upload) return;
    if (upload.fields.sha256 !== upload.file.sha256) {
      await deps.imports.discard(upload.file);
      throw new AppError(422, 'not-the-same-file', 'Unprocessable content', 'not the file that was checked');
    }
    const view = await deps.imports.start(upload.file, {
      withoutConsent: upload.withoutConsent,
      createdBy: `staff:${req.staff!.user.id}`,
    });
    res.redirect(303, `/admin/imports/${view.id}`);
  });
}

export function showImport(deps: ImportDeps): RequestHandler {
  return handler(async (req, res) => {
    sendHtml(
      res,
      200,
      importPage(ctxOf(req, 'imports'), await deps.imports.get(idParam(req.params.id, 'import'))),
    );
  });
}

/** The progress for the page's script. */
export function importStatus(deps: ImportDeps): RequestHandler {
  return handler(async (req, res) => {
    res.json(await deps.imports.get(idParam(req.params.id, 'import')));
  });
}

/** The consent choice of an upload, for the page that refuses its file. */
const choices = new WeakMap<Request, string>();

/**
 * An upload's handler: a file that cannot be taken (too large, empty, not CSV, no email column, not
 * the file checked) shows the upload page again saying why, with the status of the problem.
 */
function uploadHandler(deps: ImportDeps, fn: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    fn(req, res).catch(async (err: unknown) => {
      if (!(err instanceof AppError) || err.status < 400 || err.status >= 500 || res.headersSent)
        return next(err);
      try {
        sendHtml(
          res,
          err.status,
          importsPage(ctxOf(req, 'imports'), {
            maxBytes: deps.imports.maxBytes,
            items: await deps.imports.list(),
            problem: fileProblemText(err.type, deps.imports.maxBytes),
            withoutConsent: choices.get(req),
          }),
        );
      } catch (e) {
        next(e);
      }
    });
  };
}

interface Upload {
  fields: Record<string, string>;
  withoutConsent: WithoutConsent;
  file: ReceivedFile;
}

/**
 * Reads the multipart form: its fields, then the one file, streamed to the imports service (never
 * held in memory). Null when the CSRF check refused the form (its page is sent).
 */
function receiveUpload(deps: ImportDeps, req: Request, res: Response): Promise<Upload | null> {
  const length = declaredLength(req);
  if (length !== undefined && length > deps.imports.maxBytes + MULTIPART_OVERHEAD) {
    req.resume();
    return Promise.reject(new AppError(413, 'too-large', 'Payload too large', 'the upload is too large'));
  }
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      limits: { files: 1, fields: 10, fieldSize: 1024, parts: 12, fileSize: deps.imports.maxBytes + 1 },
    });
  } catch {
    return Promise.reject(new AppError(400, 'no-file', 'Bad request', 'not a multipart form'));
  }
  return new Promise<Upload | null>((resolve, reject) => {
    const fields: Record<string, string> = {};
    let receiving: Promise<ReceivedFile> | null = null;
    let refused = false;
    bb.on('field', (name, value) => {
      fields[name] = value;
      if (name === 'withoutConsent') choices.set(req, value);
    });
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || receiving || refused || info.filename === '') {
        stream.resume();
        return;
      }
      // The one CSRF check of the admin, on the token the form sent ahead of the file.
      req.headers[CSRF_HEADER] = fields._csrf ?? '';
      let allowed = false;
      requireCsrf(req, res, () => {
        allowed = true;
      });
      if (!allowed) {
        refused = true;
        stream.resume();
        return;
      }
      receiving = deps.imports.receive(stream);
      receiving.catch(() => undefined);
    });
    // A form cut off or malformed on the way.
    bb.on('error', () => reject(new AppError(400, 'aborted', 'Bad request', 'the upload could not be read')));
    bb.on('close', () => {
      if (refused) return resolve(null);
      if (!receiving) return reject(new AppError(422, 'no-file', 'Unprocessable content', 'no file chosen'));
      receiving.then((file) => {
        const choice = fields.withoutConsent as WithoutConsent;
        resolve({ fields, file, withoutConsent: WITHOUT_CONSENT.includes(choice) ? choice : 'reject' });
      }, reject);
    });
    req.pipe(bb);
  });
}
