// The command table of `moat-oci`: names, flags and help, as runc has them. Handlers are
// imported lazily so that a command loads only what it needs.
import type { FlagSpec } from '../args.js';

/** One command of the CLI. */
export interface Command {
  usage: string;
  help: string;
  flags: Record<string, FlagSpec>;
  /** flags stop at the first positional (the command line that follows is the process's) */
  stopAtPositional?: boolean;
  load: () => Promise<(ctx: CommandContext) => Promise<number>>;
}

/** What a handler gets: global options, its flags, positionals. */
export interface CommandContext {
  root: string;
  flags: Record<string, string | boolean | string[]>;
  args: string[];
  systemdCgroup: boolean;
}

const pidFile: FlagSpec = { type: 'string', help: 'write the container process pid to this file' };
const consoleSocket: FlagSpec = { type: 'string', help: 'unix socket to send the pty master to' };
const preserveFds: FlagSpec = { type: 'string', help: 'pass N more fds (3..3+N-1) to the process' };
const bundle: FlagSpec = { type: 'string', alias: 'b', help: 'bundle directory (default: current directory)' };

export const COMMANDS: Record<string, Command> = {
  create: {
    usage: 'create [flags] ID', help: 'create a container that waits for start',
    flags: { bundle, 'pid-file': pidFile, 'console-socket': consoleSocket, 'no-pivot': { type: 'bool', help: 'use MS_MOVE and chroot instead of pivot_root' }, 'no-new-keyring': { type: 'bool', help: 'accepted; moat never creates session keyrings' }, 'preserve-fds': preserveFds },
    load: async () => (await import('./verbs/create.js')).create,
  },
  run: {
    usage: 'run [flags] ID', help: 'create and start a container, wait for it, delete it',
    flags: { bundle, 'pid-file': pidFile, 'console-socket': consoleSocket, detach: { type: 'bool', alias: 'd', help: 'return once the container has started' }, 'no-pivot': { type: 'bool', help: 'use MS_MOVE and chroot instead of pivot_root' }, 'no-new-keyring': { type: 'bool', help: 'accepted; moat never creates session keyrings' }, 'preserve-fds': preserveFds, keep: { type: 'bool', help: 'do not delete the container when it exits' } },
    load: async () => (await import('./verbs/create.js')).run,
  },
  start: { usage: 'start ID', help: 'start a created container', flags: {}, load: async () => (await import('./verbs/lifecycle.js')).start },
  state: { usage: 'state ID', help: 'print the OCI state of a container', flags: {}, load: async () => (await import('./verbs/lifecycle.js')).state },
  kill: {
    usage: 'kill [--all] ID [SIGNAL]', help: 'send a signal (default SIGTERM) to the container',
    flags: { all: { type: 'bool', alias: 'a', help: 'signal every process of the container' } },
    load: async () => (await import('./verbs/lifecycle.js')).kill,
  },
  delete: {
    usage: 'delete [--force] ID', help: 'delete a container and everything it holds',
    flags: { force: { type: 'bool', alias: 'f', help: 'kill a running container first' } },
    load: async () => (await import('./verbs/lifecycle.js')).del,
  },
  list: {
    usage: 'list [--format table|json] [-q]', help: 'list containers',
    flags: { format: { type: 'string', alias: 'f', help: 'table or json' }, quiet: { type: 'bool', alias: 'q', help: 'print only IDs' } },
    load: async () => (await import('./verbs/lifecycle.js')).list,
  },
  ps: {
    usage: 'ps [--format table|json] ID', help: 'list the processes of a container',
    flags: { format: { type: 'string', alias: 'f', help: 'table or json' } },
    load: async () => (await import('./verbs/lifecycle.js')).ps,
  },
  exec: {
    usage: 'exec [flags] ID [COMMAND ARGS...]', help: 'run a process in a running container', stopAtPositional: true,
    flags: {
      process: { type: 'string', alias: 'p', help: 'JSON file with the OCI process to run' },
      tty: { type: 'bool', alias: 't', help: 'allocate a pseudo-terminal' },
      detach: { type: 'bool', alias: 'd', help: 'do not wait for the process' },
      env: { type: 'strings', alias: 'e', help: 'set an environment variable (repeatable)' },
      cwd: { type: 'string', help: 'working directory in the container' },
      user: { type: 'string', alias: 'u', help: 'UID[:GID] to run as' },
      'additional-gids': { type: 'strings', alias: 'g', help: 'supplementary gid (repeatable)' },
      cap: { type: 'strings', alias: 'c', help: 'add a capability (repeatable)' },
      'no-new-privs': { type: 'bool', help: 'set no_new_privs for the process' },
      'pid-file': pidFile, 'console-socket': consoleSocket, 'preserve-fds': preserveFds,
      'apparmor': { type: 'string', help: 'AppArmor profile (not available on this build)' },
      'process-label': { type: 'string', help: 'SELinux label (not available on this build)' },
    },
    load: async () => (await import('./verbs/exec.js')).exec,
  },
  spec: {
    usage: 'spec [--rootless] [-b DIR]', help: 'write a default config.json',
    flags: { bundle, rootless: { type: 'bool', help: 'a config for an unprivileged user' } },
    load: async () => (await import('./verbs/spec.js')).spec,
  },
  features: { usage: 'features', help: 'print what this runtime supports (OCI features document)', flags: {}, load: async () => (await import('./verbs/spec.js')).features },
  update: {
    usage: 'update [--resources FILE|-] [flags] ID', help: 'change the resource limits of a running container',
    flags: {
      resources: { type: 'string', alias: 'r', help: 'JSON file with linux.resources (- for stdin)' },
      memory: { type: 'string', help: 'memory limit in bytes' },
      'memory-swap': { type: 'string', help: 'memory+swap limit in bytes' },
      'cpu-shares': { type: 'string', help: 'CPU shares' },
      'cpu-quota': { type: 'string', help: 'CPU CFS quota in microseconds' },
      'cpu-period': { type: 'string', help: 'CPU CFS period in microseconds' },
      'cpuset-cpus': { type: 'string', help: 'CPUs to use' },
      'cpuset-mems': { type: 'string', help: 'memory nodes to use' },
      'pids-limit': { type: 'string', help: 'maximum number of processes' },
      'blkio-weight': { type: 'string', help: 'block IO weight' },
    },
    load: async () => (await import('./verbs/cgroups.js')).update,
  },
  events: {
    usage: 'events [--stats] [--interval D] ID', help: 'print resource usage and OOM events',
    flags: { stats: { type: 'bool', help: 'print the stats once and exit' }, interval: { type: 'string', help: 'stats interval (default 5s)' } },
    load: async () => (await import('./verbs/cgroups.js')).events,
  },
  pause: { usage: 'pause ID', help: 'freeze every process of the container', flags: {}, load: async () => (await import('./verbs/lifecycle.js')).pause },
  resume: { usage: 'resume ID', help: 'thaw a paused container', flags: {}, load: async () => (await import('./verbs/lifecycle.js')).resume },
};
