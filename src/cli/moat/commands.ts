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
  /** false: the data directory is not made or swept first (`check`) */
  opensStore?: boolean;
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
  network: { type: 'string', help: 'none (default: loopback only), bridge (the network moat0), NAME (a user network), pasta, slirp4netns, or host (UNSAFE: the host\'s network)' },
  publish: { type: 'strings', alias: 'p', help: 'forward a host port: [IP:]HOSTPORT:CTPORT[/tcp|udp] (repeatable)' },
  userns: { type: 'string', help: 'private (default: a uid/gid range of the sandbox\'s own) or host (root inside is root outside)' },
  mac: { type: 'string', help: 'required (default: Landlock plus the host\'s SELinux/AppArmor/Smack, refuse if one cannot apply), best-effort (start, name what is skipped) or off' },
  init: { type: 'string', help: 'systemd: boot systemd as PID 1 (debian or oci:DIR templates; its cgroup is delegated to it; `moat stop` halts it with SIGRTMIN+3)' },
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
  check: {
    usage: 'check [--json]', help: 'check the host\'s prerequisites for sandboxes (user namespaces, newuidmap, subordinate ids, cgroups), each with its fix',
    flags: { json }, opensStore: false,
    load: async () => (await import('./verbs/check.js')).check,
  },
  network: {
    usage: 'network create NAME [--subnet CIDR] [--isolated] | network ls [--json] | network inspect NAME | network rm NAME',
    help: 'manage networks: sandboxes on one user network reach each other (unless --isolated) and resolve each other by name',
    flags: { subnet: { type: 'string', help: 'IPv4 subnet of a new network (default: the next free /24 of 10.129.0.0/16)' }, isolated: { type: 'bool', help: 'members of the new network cannot reach each other' }, json },
    load: async () => (await import('./verbs/network.js')).network,
  },
  delete: { usage: 'delete NAME [--force]', help: 'delete a sandbox and everything it holds', flags: { force }, load: async () => (await import('./verbs/delete.js')).del },
  completion: {
    usage: 'completion bash|zsh', help: 'print a shell completion script (source it: `source <(moat completion bash)`)',
    flags: {}, noStore: true,
    load: async () => (await import('./verbs/completion.js')).completion,
  },
};
