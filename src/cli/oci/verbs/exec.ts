// exec: a process from --process FILE, or the container's process with the given overrides.
import { readFileSync } from 'node:fs';
import { execInContainer } from '../../../runtime/exec.js';
import { containerRecord } from '../../../runtime/lifecycle.js';
import type { OciProcess } from '../../../spec/oci-types.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';

function processFromFlags(ctx: CommandContext, base: OciProcess): OciProcess {
  const f = ctx.flags;
  const args = ctx.args.slice(1);
  if (!args.length) throw new UsageError('exec needs a command, or --process FILE');
  const p: OciProcess = { ...structuredClone(base), args, terminal: !!f.tty };
  delete p.consoleSize;
  for (const kv of (f.env as string[]) ?? []) {
    if (!kv.includes('=')) throw new UsageError(`--env \`${kv}\` is not KEY=VALUE`);
    const key = kv.slice(0, kv.indexOf('='));
    p.env = [...(p.env ?? []).filter((e) => !e.startsWith(key + '=')), kv];
  }
  if (f.cwd) p.cwd = f.cwd as string;
  if (f.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(f.user as string);
    if (!m) throw new UsageError(`--user must be UID[:GID], not \`${f.user}\``);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] ? Number(m[2]) : p.user.gid };
  }
  if (f['additional-gids']) p.user = { ...p.user, additionalGids: (f['additional-gids'] as string[]).map(Number) };
  for (const cap of (f.cap as string[]) ?? []) {
    const c = p.capabilities ?? (p.capabilities = {});
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      if (set === 'ambient' || set === 'inheritable') continue;
      if (!c[set]?.includes(cap)) c[set] = [...(c[set] ?? []), cap];
    }
  }
  if (f['no-new-privs']) p.noNewPrivileges = true;
  return p;
}

export async function exec(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  if (!ctx.args.length) throw new UsageError('exec needs a container ID');
  if (f.apparmor) throw new UsageError('--apparmor: this build has no AppArmor backend');
  if (f['process-label']) throw new UsageError('--process-label: this build has no SELinux backend');
  const id = ctx.args[0]!;
  const rec = containerRecord(ctx.root, id);
  let proc: OciProcess;
  if (f.process) {
    if (ctx.args.length > 1) throw new UsageError('give either --process or a command, not both');
    proc = JSON.parse(readFileSync(f.process as string, 'utf8')) as OciProcess;
  } else proc = processFromFlags(ctx, rec.spec.process!);
  const preserve = f['preserve-fds'] === undefined ? 0 : Number(f['preserve-fds']);
  if (!Number.isInteger(preserve) || preserve < 0) throw new UsageError(`--preserve-fds must be a count, not \`${f['preserve-fds']}\``);
  return execInContainer({
    root: ctx.root, id, process: proc, detach: !!f.detach, preserveFds: preserve,
    ...(f['pid-file'] ? { pidFile: f['pid-file'] as string } : {}),
    ...(f['console-socket'] ? { consoleSocket: f['console-socket'] as string } : {}),
  });
}
