import pino, { type Logger } from 'pino';

export type { Logger };

const ADDRESS_LIKE = /<?[^\s<>@"'(),;:]+@[^\s<>@"'(),;:]+>?/g;

/** Replaces anything that looks like an e-mail address, with or without angle brackets, by `<recipient>`. */
export function redactAddresses(text: string): string {
  return text.replace(ADDRESS_LIKE, '<recipient>');
}

/**
 * Error texts come from drivers and SMTP servers and may quote data (MySQL: "Duplicate entry
 * 'kari@example.no'…", an SMTP 550 naming the mailbox): every `err`/`error` field is redacted.
 */
function redactErrorFields(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const key of ['err', 'error']) {
    const value = obj[key];
    let clean: unknown = value;
    if (typeof value === 'string') clean = redactAddresses(value);
    else if (value instanceof Error)
      clean = {
        type: value.name,
        message: redactAddresses(value.message),
        stack: redactAddresses(value.stack ?? ''),
      };
    else if (value && typeof value === 'object') {
      const e = value as { message?: unknown; stack?: unknown };
      clean = {
        ...value,
        ...(typeof e.message === 'string' ? { message: redactAddresses(e.message) } : {}),
        ...(typeof e.stack === 'string' ? { stack: redactAddresses(e.stack) } : {}),
      };
    }
    if (clean !== value) out = { ...out, [key]: clean };
  }
  return out;
}

/**
 * JSON lines. Only ids go into logs: never addresses, names or IPs. The redact list is a
 * safety net for fields that must never be logged even by mistake.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'kundeklubb' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: redactErrorFields },
      redact: {
        paths: [
          'email',
          'to',
          'firstName',
          'lastName',
          'phone',
          '*.email',
          '*.to',
          'req.headers',
          'ip',
          'remoteAddress',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
