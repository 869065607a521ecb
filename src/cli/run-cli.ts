import { parseArgs } from 'node:util';
import { isHaloError } from '../errors.js';
import type { Command, CommandContext, OptionSpec } from './command.js';
import { didYouMean } from './did-you-mean.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'Show this help.' };

export async function runCli(argv: string[], commands: Command[], io: CliIo): Promise<number> {
  // `halo --version` / `halo -V`, the spelling most CLIs accept, is the `version` command.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) argv = ['version'];
  const match = findCommand(argv, commands);
  if (!match) {
    const words = argv.filter((a) => !a.startsWith('-'));
    const wantsHelp =
      argv.length === 0 || argv.includes('--help') || argv.includes('-h') || words[0] === 'help';
    const group = words.length > 0 ? commands.filter((c) => c.words[0] === words[0]) : [];
    if (wantsHelp && group.length > 0 && words.length === 1) {
      io.stdout(topHelp(group, `halo ${words[0]}`));
      return 0;
    }
    if (wantsHelp && words.length <= 1) {
      io.stdout(topHelp(commands, 'halo'));
      return 0;
    }
    const known = [...new Set(commands.map((c) => c.words.join(' ')))];
    const typed = words.slice(0, 2).join(' ');
    const guess = didYouMean(typed, known) ?? didYouMean(words[0] ?? '', known);
    io.stderr(
      `halo: unknown command "${words.join(' ')}".${guess ? ` Did you mean \`halo ${guess}\`?` : ''} Run \`halo --help\` for the list of commands.\n`,
    );
    return 2;
  }
  const { command, rest } = match;
  const options = { help: HELP_OPTION, ...(command.options ?? {}) };
  let parsed: { values: CommandContext['options']; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: stripDescriptions(options),
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    io.stderr(
      `halo ${command.words.join(' ')}: ${friendlyParseError(err as Error, options)}\n${usageLine(command)}\n`,
    );
    return 2;
  }
  if (parsed.values['help']) {
    io.stdout(commandHelp(command));
    return 0;
  }
  const [min, max] = command.arity ?? [0, 0];
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    io.stderr(
      `halo ${command.words.join(' ')}: expected ${command.args ?? 'no arguments'}\n${usageLine(command)}\n`,
    );
    return 2;
  }
  try {
    const code = await command.run({ ...io, options: parsed.values, positionals: parsed.positionals });
    return code ?? 0;
  } catch (err) {
    return reportError(err, io);
  }
}

/** User errors: message only, exit 2. Operational: message, exit 1. Bugs: stack, exit 1. */
export function reportError(err: unknown, io: Pick<CliIo, 'stderr' | 'env'>): number {
  if (isHaloError(err)) {
    io.stderr(`error ${err.code}: ${err.message}\n`);
    return err.kind === 'user' ? 2 : 1;
  }
  const debug = io.env['HALO_DEBUG'] === '1';
  io.stderr(`internal error: ${err instanceof Error ? (debug ? err.stack : err.message) : String(err)}\n`);
  if (!debug) io.stderr('(set HALO_DEBUG=1 for the stack trace)\n');
  return 1;
}

export function findCommand(
  argv: string[],
  commands: Command[],
): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of commands) {
    const n = command.words.length;
    if (argv.length >= n && command.words.every((w, i) => argv[i] === w)) {
      if (!best || n > best.command.words.length) best = { command, rest: argv.slice(n) };
    }
  }
  return best;
}

function stripDescriptions(options: Record<string, OptionSpec>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, { description: _d, valueName: _v, ...rest }]) => [name, rest]),
  ) as NonNullable<Parameters<typeof parseArgs>[0]>['options'];
}

function usageLine(command: Command): string {
  const opts = Object.keys(command.options ?? {}).length > 0 ? ' [options]' : '';
  return `usage: halo ${command.words.join(' ')}${command.args ? ` ${command.args}` : ''}${opts}`;
}

export function commandHelp(command: Command): string {
  const lines = [usageLine(command), '', command.summary];
  if (command.details) lines.push('', command.details.trim());
  const options = { ...(command.options ?? {}), help: HELP_OPTION };
  lines.push('', 'Options:');
  for (const [name, spec] of Object.entries(options)) {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    lines.push(`  ${flag.padEnd(28)} ${spec.description}`);
  }
  return `${lines.join('\n')}\n`;
}

function topHelp(commands: Command[], prefix: string): string {
  const lines = [
    `usage: ${prefix} COMMAND [options]`,
    '',
    'Halo keeps a service reachable: it moves failover groups to a healthy node, never to two at once.',
    '',
    'Commands:',
  ];
  for (const c of commands) {
    const name = `halo ${c.words.join(' ')}${c.args ? ` ${c.args}` : ''}`;
    lines.push(`  ${name.padEnd(36)} ${c.summary}`);
  }
  lines.push('', 'Run `halo COMMAND --help` for the options of a command.');
  return `${lines.join('\n')}\n`;
}

/** parseArgs's own text (written for script authors) as a one-line hint for a CLI user. */
function friendlyParseError(err: Error & { code?: string }, options: Record<string, OptionSpec>): string {
  const seeHelp = 'run with --help for the options';
  const unknown = /Unknown option '([^']+)'/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const typed = unknown[1]!.replace(/^-+/, '').replace(/=.*$/, '');
    const guess = didYouMean(typed, Object.keys(options));
    return `unknown option ${unknown[1]}${guess ? ` (did you mean --${guess}?)` : ''}; ${seeHelp}`;
  }
  const missing = /Option '([^']+)' argument missing/.exec(err.message);
  if (missing) return `option ${missing[1]!.replace(/^-\w, /, '')} needs a value; ${seeHelp}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${err.message.split('\n')[0]}; ${seeHelp}`;
  return `${err.message.split('\n')[0]}; ${seeHelp}`;
}
