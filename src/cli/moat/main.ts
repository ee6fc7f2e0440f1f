// moat: named secure sandboxes (issue 7), on the same library as moat-oci, in-process.
import { flagHelp, parseArgs, splitGlobalArgs, UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
import { configureLog } from '../../runtime/log.js';
import { setHelperServer } from '../../runtime/helper-mode.js';
import { COMMANDS, type Command } from './commands.js';
import { err, out } from './output.js';

/** Flags before the command. */
export const GLOBAL: Record<string, FlagSpec> = {
  'data-dir': { type: 'string', help: 'where sandboxes live (default $MOAT_DATA_DIR, else /var/lib/moat for root and $XDG_DATA_HOME/moat or ~/.local/share/moat for other users)' },
  debug: { type: 'bool', help: 'log debug messages' },
  help: { type: 'bool', alias: 'h', help: 'show help' },
  version: { type: 'bool', help: 'print the version' },
};

const ALIASES: Record<string, string> = { ls: 'list', rm: 'delete', ps: 'list' };
const HELP: FlagSpec = { type: 'bool', help: 'show help' };

function usage(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(11)}${c.help}`).join('\n');
  return `usage: moat [global flags] COMMAND [flags] [args]\n\nsecure sandboxes: every namespace, seccomp, minimal capabilities, no_new_privs,\nmasked /proc and /sys, cgroup limits, no network but loopback unless asked\n\ncommands:\n${cmds}\n\nglobal flags:\n${flagHelp(GLOBAL)}\n\n"moat COMMAND --help" shows a command's flags.\n`;
}

function commandHelp(name: string, c: Command): string {
  return `usage: moat ${c.usage}\n\n${c.help}\n\nflags:\n${flagHelp({ ...c.flags, help: HELP })}\n`;
}

/** Expands `-it` into `-i -t` when every letter is a boolean flag's alias, up to the point
 * where the command line (which has flags of its own) begins. */
function expandShortFlags(argv: string[], specs: Record<string, FlagSpec>, positionals: number): string[] {
  const bools = new Set(Object.values(specs).filter((s) => s.type === 'bool' && s.alias).map((s) => s.alias!));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    if (!a.startsWith('-')) {
      if (positionals-- <= 0) return [...out, ...argv.slice(i)];
      out.push(a);
      continue;
    }
    if (/^-[A-Za-z]{2,}$/.test(a) && [...a.slice(1)].every((ch) => bools.has(ch))) out.push(...[...a.slice(1)].map((ch) => `-${ch}`));
    else {
      out.push(a);
      const spec = Object.values(specs).find((s) => (a.startsWith('--') ? false : s.alias === a.slice(1))) ?? specs[a.replace(/^--/, '')];
      if (spec && spec.type !== 'bool' && !a.includes('=') && i + 1 < argv.length) out.push(argv[++i]!);
    }
  }
  return out;
}

/** Splits a command's arguments into flags, positionals and its command line. */
function parseCommandArgs(c: Command, argv: string[]): ParsedArgs & { command: string[] } {
  const specs = { ...c.flags, help: HELP };
  if (c.shape === 'command') {
    const p = parseArgs(expandShortFlags(argv, specs, 0), specs, true);
    return { ...p, rest: [], command: p.rest };
  }
  if (c.shape === 'name-command') {
    const first = parseArgs(expandShortFlags(argv, specs, 1), specs, true);
    const [name, ...after] = first.rest;
    const second = parseArgs(expandShortFlags(after, specs, 0), specs, true);
    const flags = { ...first.flags };
    for (const [k, v] of Object.entries(second.flags)) flags[k] = Array.isArray(v) && Array.isArray(flags[k]) ? [...(flags[k] as string[]), ...v] : v;
    return { flags, rest: name === undefined ? [] : [name], command: second.rest };
  }
  return { ...parseArgs(argv, specs), command: [] };
}

/** Runs the CLI on argv (without node and script); exits the process. */
export async function main(argv: string[]): Promise<void> {
  let code = 1;
  setHelperServer(false); // one sandbox per process: the helper is spawned directly
  let failureStatus = 1;
  try {
    const { global, command, rest } = splitGlobalArgs(argv, GLOBAL);
    const g = parseArgs(global, GLOBAL).flags;
    if (g.version) {
      out('moat version 0.1.0\n');
      process.exit(0);
    }
    if (!command || g.help || command === 'help') {
      const c = command === 'help' && rest[0] ? COMMANDS[ALIASES[rest[0]] ?? rest[0]] : undefined;
      out(c ? commandHelp(rest[0]!, c) : usage());
      process.exit(command || g.help ? 0 : 2);
    }
    const name = ALIASES[command] ?? command;
    const cmd = COMMANDS[name];
    if (!cmd) throw new UsageError(`unknown command \`${command}\` (see moat --help)`);
    failureStatus = cmd.failureStatus ?? 1;
    configureLog({ debug: !!g.debug, stderr: true, name: 'moat' });
    const parsed = parseCommandArgs(cmd, rest);
    if (parsed.flags.help) {
      out(commandHelp(name, cmd));
      process.exit(0);
    }
    const handler = await cmd.load();
    const { resolveDataDir, SandboxStore } = await import('../../manager/index.js');
    // (a command that needs no sandbox, like completion or check, makes no data dir)
    const store = new SandboxStore(resolveDataDir(g['data-dir'] as string | undefined));
    if (cmd.opensStore !== false && !cmd.noStore) await store.open();
    code = await handler({ store, flags: parsed.flags, args: parsed.rest, command: parsed.command });
  } catch (e) {
    err(`moat: ${(e as Error).message ?? String(e)}\n`);
    code = e instanceof UsageError ? 2 : failureStatus;
  }
  process.exit(code);
}
