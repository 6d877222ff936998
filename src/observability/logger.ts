import { pino, type Logger } from 'pino';

/**
 * The service's structured JSON logger. Paths that may hold secrets or
 * personal data are redacted (API keys, phone numbers).
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'rt-analytics'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'authorization',
        '*.authorization',
        'headers.authorization',
        'apiKey',
        '*.apiKey',
        'phone',
        '*.phone',
        '*.*.phone',
      ],
      censor: '[redacted]',
    },
  });
}
