// moat-oci: an OCI runtime with runc's command line.
import { parseArgs, flagHelp, splitGlobalArgs, UsageError, type FlagSpec } from '../args.js';
import { COMMANDS } from './commands.js';
import { configureLog, log } from '../../runtime/log.js';
import { err, out } from './output.js';
import { defaultStateRoot } from '../../runtime/rootless.js';
import { setHelperServer } from '../../runtime/helper-mode.js';

const GLOBAL: Record<string, FlagSpec> = {
  root: { type: 'string', help: 'state directory (default /run/moat-oci; without root $XDG_RUNTIME_DIR/moat-oci, else /run/user/UID/moat-oci, else /tmp/moat-oci-UID)' },
  log: { type: 'string', help: 'log file' },
  'log-format': { type: 'string', help: 'text or json' },
  debug: { type: 'bool', help: 'log debug messages' },
  'systemd-cgroup': { type: 'bool', help: 'cgroupsPath is slice:prefix:name (needs systemd)' },
  rootless: { type: 'string', help: 'accepted for runc compatibility' },
  criu: { type: 'string', help: 'accepted for runc compatibility' },
  help: { type: 'bool', alias: 'h', help: 'show help' },
  version: { type: 'bool', alias: 'v', help: 'print the version' },
};

function usage(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)}${c.help}`).join('\n');
  return `usage: moat-oci [global flags] COMMAND [flags] [args]\n\ncommands:\n${cmds}\n\nglobal flags:\n${flagHelp(GLOBAL)}\n`;
}

function printError(e: unknown): void {
  const issues = (e as { issues?: { path: string; message: string }[] }).issues;
  const msg = (e as Error).message ?? String(e);
  log('error', issues ? msg.replace(/\n/g, '; ') : msg);
  err(`moat-oci: ${msg}\n`);
}

/** Runs the CLI on argv (without node and script); exits the process. */
export async function main(argv: string[]): Promise<void> {
  let code = 1;
  setHelperServer(false); // one container per process: the helper is spawned directly
  try {
    const { global, command, rest } = splitGlobalArgs(argv, GLOBAL);
    const g = parseArgs(global, GLOBAL).flags;
    if (g.version) {
      out('moat-oci version 0.1.0\nspec: 1.2.0\n');
      process.exit(0);
    }
    if (!command || g.help || command === 'help') {
      out(usage());
      process.exit(command || g.help ? 0 : 1);
    }
    const cmd = COMMANDS[command];
    if (!cmd) throw new UsageError(`unknown command \`${command}\``);
    const logFormat = (g['log-format'] as string) ?? 'text';
    if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format must be text or json, not \`${logFormat}\``);
    configureLog({ format: logFormat, debug: !!g.debug, stderr: true, ...(g.log ? { file: g.log as string } : {}) });
    if (rest.includes('--help') || rest.includes('-h')) {
      out(`usage: moat-oci ${cmd.usage}\n\n${cmd.help}\n\nflags:\n${flagHelp(cmd.flags)}\n`);
      process.exit(0);
    }
    const parsed = parseArgs(rest, cmd.flags, cmd.stopAtPositional);
    const handler = await cmd.load();
    code = await handler({ root: (g.root as string) ?? defaultStateRoot(), flags: parsed.flags, args: parsed.rest, systemdCgroup: !!g['systemd-cgroup'] });
  } catch (e) {
    printError(e);
    code = e instanceof UsageError ? 2 : 1;
  }
  process.exit(code);
}
