import pino, { type Logger } from 'pino';

export type { Logger };

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
