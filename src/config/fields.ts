import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/**
 * Reusable field schemas for the config file. Each one carries a `description` (the JSON
 * Schema and docs/configuration.md are generated from it) and a message that says what
 * was expected.
 */

/** "500ms" | "3s" | "2m" | "1h" → milliseconds. */
export function duration(description: string) {
  return z
    .string({ error: 'expected a duration string like "500ms", "3s" or "2m"' })
    .regex(/^\s*\d+(\.\d+)?(ms|s|m|h)\s*$/, { error: 'expected a duration like "500ms", "3s", "2m" or "1h"' })
    .transform((text) => parseDuration(text) ?? 0)
    .describe(description);
}

export function port(description: string) {
  return z
    .number({ error: 'expected a TCP/UDP port number (1-65535)' })
    .int({ error: 'expected an integer port number' })
    .min(1, { error: 'expected a port number from 1 to 65535' })
    .max(65535, { error: 'expected a port number from 1 to 65535' })
    .describe(description);
}

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function name(description: string) {
  return z
    .string({ error: 'expected a name' })
    .regex(NAME_RE, { error: 'expected a name of letters, digits, "_", "-" or "." (at most 63 characters)' })
    .describe(description);
}

/** The schemas made by `command()`: the loader finds command fields by them (command-args.ts). */
export const COMMAND_SCHEMAS = new WeakSet<object>();

/**
 * A command: one string run by /bin/sh -c, or an argv list run without a shell. Arguments
 * written as numbers or booleans (`[python3, -m, http.server, 8080]`) are arguments too: the
 * config loader keeps the text as written in the file (`08`, `1e3`, `1.50`); through the API,
 * where the spelling is gone, they are turned into text with String().
 */
export function command(description: string) {
  const schema = z
    .union(
      [
        z.string().min(1),
        z
          .array(
            z
              .union([z.string(), z.number(), z.boolean()], {
                error: 'expected a string argument (a number or true/false is taken as written)',
              })
              .transform((arg) => String(arg)),
          )
          .min(1, { error: 'expected a non-empty argv list' }),
      ],
      { error: 'expected a shell command string or a non-empty list of arguments' },
    )
    .describe(description);
  COMMAND_SCHEMAS.add(schema);
  return schema;
}

export function host(description: string) {
  return z
    .string({ error: 'expected a host name or IP address' })
    .min(1, { error: 'expected a host name or IP address' })
    .describe(description);
}

export const envMap = z
  .record(z.string(), z.string({ error: 'expected a string value' }), {
    error: 'expected a map of NAME: value',
  })
  .describe(
    "Extra environment variables for the commands, over the clean environment they start with (a fixed PATH, locale, HOME/USER and the HALO_* identity; not the agent's).",
  );

export const runAs = z
  .string()
  .min(1)
  .describe(
    'Run the commands as this user, with its supplementary groups (setpriv --init-groups; the agent must run as root).',
  );
