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
    hooks: {
      // A call's fields that repeat a child binding (`log.info({ resource }, ...)` on a logger
      // bound to that resource) would print the key twice; see childLogger.
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (first !== null && typeof first === 'object' && !(first instanceof Error)) {
          const fields = withoutBound(this.bindings(), first as Record<string, unknown>);
          if (fields !== first) return method.apply(this, [fields, ...rest] as Parameters<typeof method>);
        }
        return method.apply(this, args);
      },
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that drops everything; for unit tests and short-lived CLI commands. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * A child logger that never repeats a key. pino appends child bindings as raw JSON text, so
 * `log.child({ resource })` under a logger already bound to `resource` writes the key twice
 * in one line (JSON.parse keeps the last; jq and log shippers disagree). A key bound to the
 * same value is dropped; one bound to another value is written as `subKey` (e.g. the deadman
 * client under coordination logs `component: "coordination", subComponent: "deadman"`).
 */
export function childLogger(log: Logger, bindings: Record<string, unknown>): Logger {
  return log.child(withoutBound(log.bindings(), bindings));
}

/** `fields` minus keys bound to the same value; keys bound to another value become `subKey`. */
function withoutBound(
  have: Record<string, unknown>,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  if (!Object.keys(fields).some((k) => k in have)) return fields;
  const fresh: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!(key in have)) fresh[key] = value;
    else if (have[key] !== value) fresh[`sub${key[0]!.toUpperCase()}${key.slice(1)}`] = value;
  }
  return fresh;
}
