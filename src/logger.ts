import { type Logger, pino } from 'pino';

/**
 * Structured JSON logs. Request lines carry method, redacted path, status and timing, never headers
 * or bodies; the redact list is a second fence for fields that must never be written.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { app: 'cable-ticketing' },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'access_token',
          '*.access_token',
          'authorization',
          '*.authorization',
          'cookie',
          '*.cookie',
          // Body parsers attach the raw request body to their errors (a password, a token).
          'err.body',
        ],
        censor: '[redacted]',
      },
    },
    destination as never,
  );
}
