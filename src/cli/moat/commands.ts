// The command table of `moat`: names, flags and help. Handlers load lazily, one file per verb.
import type { FlagSpec } from '../args.js';
import type { SandboxStore } from '../../manager/index.js';

/** How a command's arguments are split. `plain`: flags and positionals; `command`: flags,
 * then the command line (`moat run`); `name-command`: flags, NAME, more flags, then the
 * command line (`moat create`, `moat exec`). A `--` always ends the flags. */
export type ArgShape = 'plain' | 'command' | 'name-command';

/** One command of the CLI. */
export interface Command {
  usage: string;
  help: string;
  flags: Record<string, FlagSpec>;
  shape?: ArgShape;
  /** exit status for moat's own failures (run and exec use 125, as podman does, so that
   * they differ from the command's) */
  failureStatus?: number;
  /** the handler touches no sandbox: the data dir is not opened (nor made) */
  noStore?: boolean;
  load: () => Promise<(ctx: CommandContext) => Promise<number>>;
}

/** What a handler gets. */
export interface CommandContext {
  store: SandboxStore;
  flags: Record<string, string | boolean | string[]>;
  /** positionals (for `name-command`: [NAME]) */
  args: string[];
  /** the command line after the flags */
  command: string[];
}

/** Flags that shape a sandbox (create and run). */
export const SANDBOX_FLAGS: Record<string, FlagSpec> = {
  template: { type: 'string', help: 'host (default: the host\'s /usr read-only), busybox, debian (debootstrap, cached) or oci:DIR (an OCI image layout)' },
  memory: { type: 'string', alias: 'm', help: 'memory limit, like 256M or 1G (default: none)' },
  cpus: { type: 'string', help: 'CPU limit, like 0.5 (default: none)' },
  pids: { type: 'string', help: 'process limit (default 1024)' },
  'read-only': { type: 'bool', help: 'make /etc, /var, /root and /home read-only too' },
  volume: { type: 'strings', alias: 'v', help: 'bind HOST:CONTAINER[:ro] (repeatable)' },
  env: { type: 'strings', alias: 'e', help: 'set KEY=VALUE in the environment (repeatable)' },
  hostname: { type: 'string', help: 'hostname (default: the sandbox name)' },
  network: { type: 'string', help: 'none (default: loopback only) or host (UNSAFE: the host\'s network)' },
  userns: { type: 'string', help: 'private (default: a uid/gid range of the sandbox\'s own) or host (root inside is root outside)' },
  unit: { type: 'string', help: 'run a host service: NAME.service\'s ExecStart, Environment, User and WorkingDirectory; its package\'s /etc files seed the sandbox\'s /etc' },
};

const force: FlagSpec = { type: 'bool', alias: 'f', help: 'also when it is running (it is killed)' };
const json: FlagSpec = { type: 'bool', help: 'print JSON' };

export const COMMANDS: Record<string, Command> = {
  run: {
    usage: 'run [--rm] [--name NAME] [-it] [options] [--] COMMAND [ARGS...]',
    help: 'run a command in a new sandbox from the host template and wait for it; the exit status is the command\'s (125: moat failed)',
    flags: { rm: { type: 'bool', help: 'delete the sandbox when the command ends' }, name: { type: 'string', help: 'name the sandbox (default: run-RANDOM)' }, tty: { type: 'bool', alias: 't', help: 'give the command a terminal' }, interactive: { type: 'bool', alias: 'i', help: 'keep stdin attached (it always is)' }, ...SANDBOX_FLAGS },
    shape: 'command', failureStatus: 125,
    load: async () => (await import('./verbs/run.js')).run,
  },
  create: {
    usage: 'create NAME [options] [-- COMMAND [ARGS...]]',
    help: 'make a named sandbox from a template (without a command it idles, for exec)',
    flags: { ...SANDBOX_FLAGS, json },
    shape: 'name-command',
    load: async () => (await import('./verbs/create.js')).create,
  },
  start: { usage: 'start NAME [--json]', help: 'start a sandbox in the background (output goes to `moat logs`)', flags: { json }, load: async () => (await import('./verbs/start.js')).start },
  stop: {
    usage: 'stop NAME [--time S]', help: 'stop a sandbox: SIGTERM, then SIGKILL after the grace time',
    flags: { time: { type: 'string', alias: 't', help: 'seconds to wait after SIGTERM (default 10)' } },
    load: async () => (await import('./verbs/stop.js')).stop,
  },
  restart: {
    usage: 'restart NAME [--time S]', help: 'stop, then start a sandbox',
    flags: { time: { type: 'string', alias: 't', help: 'seconds to wait after SIGTERM (default 10)' } },
    load: async () => (await import('./verbs/restart.js')).restart,
  },
  exec: {
    usage: 'exec NAME [-it] [options] [--] COMMAND [ARGS...]',
    help: 'run a command in a running sandbox, with its security settings (125: moat failed)',
    flags: {
      tty: { type: 'bool', alias: 't', help: 'give the command a terminal' },
      interactive: { type: 'bool', alias: 'i', help: 'keep stdin attached (it always is)' },
      env: { type: 'strings', alias: 'e', help: 'set KEY=VALUE (repeatable)' },
      workdir: { type: 'string', alias: 'w', help: 'working directory' },
      user: { type: 'string', alias: 'u', help: 'UID[:GID] to run as' },
    },
    shape: 'name-command', failureStatus: 125,
    load: async () => (await import('./verbs/exec.js')).exec,
  },
  list: { usage: 'list [--json]', help: 'list sandboxes and what they are doing', flags: { json, quiet: { type: 'bool', alias: 'q', help: 'print only names' } }, load: async () => (await import('./verbs/list.js')).list },
  inspect: { usage: 'inspect NAME [--json]', help: 'show the effective configuration and every security layer', flags: { json }, load: async () => (await import('./verbs/inspect.js')).inspect },
  logs: { usage: 'logs NAME [-f]', help: 'print the sandbox\'s output', flags: { follow: { type: 'bool', alias: 'f', help: 'keep printing until the sandbox stops' } }, load: async () => (await import('./verbs/logs.js')).logs },
  clone: {
    usage: 'clone SRC DST [--json]', help: 'make sandbox DST from SRC: its settings and a copy of its private /etc, /var, /root and /home',
    flags: { json },
    load: async () => (await import('./verbs/clone.js')).clone,
  },
  generate: {
    usage: 'generate systemd NAME [--time S]', help: 'print a systemd unit that starts and stops the sandbox with the host',
    flags: { time: { type: 'string', alias: 't', help: 'seconds the unit\'s stop waits after SIGTERM (default 10)' } },
    load: async () => (await import('./verbs/generate.js')).generate,
  },
  delete: { usage: 'delete NAME [--force]', help: 'delete a sandbox and everything it holds', flags: { force }, load: async () => (await import('./verbs/delete.js')).del },
  completion: {
    usage: 'completion bash|zsh', help: 'print a shell completion script (source it: `source <(moat completion bash)`)',
    flags: {}, noStore: true,
    load: async () => (await import('./verbs/completion.js')).completion,
  },
};
