/** Typed errors: services throw these; the error handler turns them into problem+json (RFC 9457). */
export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    detail?: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail ?? title);
  }
}

export const unprocessable = (detail: string, errors: FieldError[] = []) =>
  new AppError(422, 'unprocessable', 'Unprocessable content', detail, errors);
export const notFound = (what: string) => new AppError(404, 'not-found', 'Not found', `${what} not found`);
export const conflict = (detail: string) => new AppError(409, 'conflict', 'Conflict', detail);
export const unauthorized = () =>
  new AppError(401, 'unauthorized', 'Unauthorized', 'A valid bearer token is required');
export const forbidden = (scope: string) =>
  new AppError(403, 'forbidden', 'Forbidden', `This token lacks the scope "${scope}"`);
