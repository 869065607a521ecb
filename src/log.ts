import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * Paths that may carry secrets anywhere in a log record. Secrets are never meant to reach a
 * log call at all; this is the second line of defence.
 */
export const REDACT_PATHS = [
  'secret',
  'key',
  'token',
  'password',
  'authorization',
  '*.secret',
  '*.key',
  '*.token',
  '*.password',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: pino.DestinationStream,
) {
  const opts: pino.LoggerOptions = {
    level: options.level ?? process.env['HALO_LOG_LEVEL'] ?? 'info',
    base: options.name ? { name: options.name } : {},
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that drops everything; for unit tests and short-lived CLI commands. */
export const silentLogger: Logger = pino({ level: 'silent' });
