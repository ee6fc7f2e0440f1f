// Host prerequisites of sandboxes, each with the command that fixes it: `moat check` prints
// them, `create` and `run` of a non-root user refuse up front when one fails, and a start that
// fails is explained by the failing ones (instead of a bare `clone: EPERM`).
//
// HOST_CHECKS is the list; other sections (an LSM report, networking) add theirs to it.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RANGE_SIZE } from '../runtime/idmap-pool.js';
import { runHelper } from '../runtime/helper-proc.js';
import { isRootless, NEWGIDMAP, NEWUIDMAP, subordinateRanges } from '../runtime/rootless.js';
import { ManagerError } from './errors.js';
import { macHostReport } from '../runtime/mac/report.js';
import { cgroupLimitsUnavailable } from './host-limits.js';
import { callerIdentity } from './userns.js';

/** ok: works; warn: works with less (said how); fail: sandboxes cannot run until fixed. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** What one check found. */
export interface CheckOutcome {
  status: CheckStatus;
  detail: string;
  /** the command (or step) that fixes it */
  fix?: string;
}

/** One check's line in the report. */
export interface CheckResult extends CheckOutcome {
  id: string;
  section: string;
  title: string;
}

/** What the checks look at; tests point it at files of their own. */
export interface HostCheckContext {
  user: { name: string; uid: number; gid: number };
  rootless: boolean;
  /** usually /proc/sys */
  procSys: string;
  subuid: string;
  subgid: string;
  newuidmap: string;
  newgidmap: string;
  dataDir?: string;
  /** the CNI plugin dir and the tun device (defaults /usr/lib/cni, /dev/net/tun) */
  cniPath?: string;
  netTun?: string;
  /** why the caller cannot set cgroup limits (undefined: it can) */
  cgroupLimits: () => string | undefined;
}

/** A prerequisite. `probe` checks run something (not used to explain a failure). */
export interface HostCheck {
  id: string;
  section: string;
  title: string;
  probe?: boolean;
  run(ctx: HostCheckContext): CheckOutcome | Promise<CheckOutcome>;
}

function sysctl(ctx: HostCheckContext, name: string): string | undefined {
  try {
    return readFileSync(join(ctx.procSys, ...name.split('.')), 'utf8').trim();
  } catch {
    return undefined;
  }
}

const persist = (kv: string) => `sysctl -w ${kv}; echo '${kv}' > /etc/sysctl.d/90-moat.conf (as root)`;

function toolState(p: string): 'missing' | 'not-setuid' | 'ok' {
  try {
    accessSync(p, constants.X_OK);
  } catch {
    return 'missing';
  }
  const st = statSync(p);
  return st.uid === 0 && (st.mode & 0o4000) !== 0 ? 'ok' : 'not-setuid';
}

/** A free subordinate area for `usermod --add-subuids`: above every range in both files. */
function freeSubidArea(ctx: HostCheckContext, count: number): string {
  let end = 100000;
  for (const f of [ctx.subuid, ctx.subgid]) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      /* none yet */
    }
    for (const l of text.split('\n')) {
      const [, s, c] = l.trim().split(':');
      if (/^\d+$/.test(s ?? '') && /^\d+$/.test(c ?? '')) end = Math.max(end, Number(s) + Number(c));
    }
  }
  const start = Math.ceil(end / RANGE_SIZE) * RANGE_SIZE;
  return `${start}-${start + count - 1}`;
}

/** The prerequisites, in the order `moat check` prints them. */
export const HOST_CHECKS: HostCheck[] = [
  {
    id: 'userns.max', section: 'user namespaces', title: 'user.max_user_namespaces',
    run(ctx) {
      const v = sysctl(ctx, 'user.max_user_namespaces');
      if (v === undefined) return { status: 'fail', detail: 'the kernel has no user namespaces (CONFIG_USER_NS)', fix: 'boot a kernel built with CONFIG_USER_NS=y' };
      if (Number(v) === 0) return { status: 'fail', detail: 'is 0: nobody may create a user namespace', fix: persist('user.max_user_namespaces=28633') };
      return { status: 'ok', detail: v };
    },
  },
  {
    id: 'userns.debian', section: 'user namespaces', title: 'kernel.unprivileged_userns_clone',
    run(ctx) {
      const v = sysctl(ctx, 'kernel.unprivileged_userns_clone');
      if (v === undefined) return { status: 'ok', detail: 'not in this kernel (a Debian patch): nothing blocks users' };
      if (v !== '0') return { status: 'ok', detail: v };
      if (!ctx.rootless) return { status: 'ok', detail: '0: only root may create user namespaces, and this is root' };
      return { status: 'fail', detail: '0 (Debian kernels): users other than root may not create user namespaces', fix: persist('kernel.unprivileged_userns_clone=1') };
    },
  },
  {
    id: 'userns.apparmor', section: 'user namespaces', title: 'kernel.apparmor_restrict_unprivileged_userns',
    run(ctx) {
      const v = sysctl(ctx, 'kernel.apparmor_restrict_unprivileged_userns');
      if (v === undefined) return { status: 'ok', detail: 'not in this kernel (an Ubuntu AppArmor setting)' };
      if (v === '0') return { status: 'ok', detail: v };
      if (!ctx.rootless) return { status: 'ok', detail: `${v}: restricts users other than root only` };
      return { status: 'fail', detail: `${v} (Ubuntu): a user namespace made without an AppArmor profile that allows \`userns\` has no capabilities`, fix: `${persist('kernel.apparmor_restrict_unprivileged_userns=0')}, or load an AppArmor profile with \`userns,\` for ${process.execPath}` };
    },
  },
  {
    id: 'userns.works', section: 'user namespaces', title: 'a user namespace can be made', probe: true,
    async run(ctx) {
      const h = runHelper({
        ops: [
          { op: 'clone', flags: 0x10000000, mode: 1, value: ctx.rootless ? 1 : 0, uidMap: `0 ${ctx.user.uid} 1\n`, gidMap: `0 ${ctx.user.gid} 1\n`, origin: 'check' },
          { op: 'exec', path: '/bin/true', args: ['/bin/true'], env: [], origin: 'check' },
        ],
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      const code = await h.exit;
      const why = await h.pid.then(() => '', (e: Error) => e.message);
      if (code === 0) return { status: 'ok', detail: `made one as uid ${ctx.user.uid}` };
      return { status: 'fail', detail: `could not (status ${code}${why ? `: ${why}` : ''})`, fix: 'see the user namespace checks above; a seccomp or LSM policy around this process may also forbid unshare(CLONE_NEWUSER)' };
    },
  },
  {
    id: 'uidmap', section: 'id mapping', title: 'newuidmap and newgidmap (package uidmap)',
    run(ctx) {
      const s = [toolState(ctx.newuidmap), toolState(ctx.newgidmap)];
      const paths = `\`${ctx.newuidmap}\`, \`${ctx.newgidmap}\``;
      if (!ctx.rootless) return { status: 'ok', detail: s.every((x) => x === 'ok') ? `${paths} present (root writes its maps itself)` : 'not needed: root writes its maps itself' };
      if (s.includes('missing')) return { status: 'warn', detail: `${paths}: missing: sandboxes map only your own uid (root inside is you outside)`, fix: 'apt-get install uidmap (as root)' };
      if (s.includes('not-setuid')) return { status: 'warn', detail: `${paths} are not setuid root: they work only if they carry file capabilities (cap_setuid, cap_setgid)`, fix: `chmod u+s ${ctx.newuidmap} ${ctx.newgidmap} (as root), or setcap cap_setuid+ep ${ctx.newuidmap} and cap_setgid+ep ${ctx.newgidmap}` };
      return { status: 'ok', detail: `${paths}, setuid root` };
    },
  },
  {
    id: 'subids', section: 'id mapping', title: 'subordinate ids (/etc/subuid, /etc/subgid)',
    run(ctx) {
      const who = ctx.rootless ? ctx.user : { name: 'root', uid: 0 };
      const u = subordinateRanges(ctx.subuid, who)[0], g = subordinateRanges(ctx.subgid, who)[0];
      const area = freeSubidArea(ctx, ctx.rootless ? RANGE_SIZE * 16 : RANGE_SIZE * 1024);
      const add = `usermod --add-subuids ${area} --add-subgids ${area} ${who.name} (as root)`;
      if (!ctx.rootless) {
        if (u && g) return { status: 'ok', detail: `root: uids ${u.start}-${u.start + u.count - 1}, gids ${g.start}-${g.start + g.count - 1}: ${Math.floor(Math.min(u.count, g.count) / RANGE_SIZE)} sandboxes with ${RANGE_SIZE} ids each` };
        return { status: 'ok', detail: 'root has no range yet: the first sandbox adds one to both files' };
      }
      const nameless = /^\d+$/.test(who.name) ? ` (and uid ${who.name} has no passwd entry, which newuidmap needs: add the user with useradd)` : '';
      if (!u || !g) return { status: 'warn', detail: `\`${who.name}\` has no subordinate ${!u ? 'uids' : 'gids'}: sandboxes map only your own uid (root inside is you outside)${nameless}`, fix: add };
      if (nameless) return { status: 'warn', detail: `uid ${who.name} has no passwd entry, which newuidmap needs: sandboxes map only your own uid`, fix: 'useradd the user (as root)' };
      const size = Math.min(u.count, g.count);
      const ids = `uids ${u.start}-${u.start + u.count - 1}, gids ${g.start}-${g.start + g.count - 1}`;
      if (size < 2 * RANGE_SIZE) return { status: 'warn', detail: `${ids}: too small to give each sandbox ${RANGE_SIZE} ids of its own: your sandboxes share them`, fix: add };
      return { status: 'ok', detail: `${ids}: ${Math.floor(size / RANGE_SIZE)} sandboxes with ${RANGE_SIZE} ids each` };
    },
  },
  {
    id: 'datadir', section: 'id mapping', title: 'data directory reachable by sandbox roots',
    run(ctx) {
      if (!ctx.dataDir) return { status: 'ok', detail: 'no data directory given' };
      let d = ctx.dataDir;
      while (!existsSync(d) && d !== dirname(d)) d = dirname(d);
      for (let p = d; ; p = dirname(p)) {
        if ((statSync(p).mode & 0o001) === 0)
          return { status: ctx.rootless ? 'warn' : 'fail', detail: `\`${p}\` is not searchable by other users: a sandbox's root, an unprivileged host uid, cannot reach its files${ctx.rootless ? ' (sandboxes that map only your own uid still work)' : ''}`, fix: `chmod o+x ${p}, or choose another --data-dir` };
        if (p === dirname(p)) break;
      }
      return { status: 'ok', detail: `\`${ctx.dataDir}\`${d !== ctx.dataDir ? ' (made at first use)' : ''}` };
    },
  },
  {
    id: 'cgroups', section: 'cgroups', title: 'cgroup limits (--memory, --cpus, --pids)',
    run(ctx) {
      const why = ctx.cgroupLimits();
      if (!why) return { status: 'ok', detail: ctx.rootless ? 'your cgroup is delegated to you' : 'root' };
      return { status: 'warn', detail: `${why}: --memory, --cpus and --pids are refused, and sandboxes run without the default pids limit`, fix: 'run moat as root, or on a cgroup v2 host with the user\'s cgroup delegated (systemd: Delegate=yes for user@.service)' };
    },
  },
  {
    id: 'net.tools', section: 'networking', title: 'network helpers (CNI plugins, iptables, pasta, slirp4netns)',
    run(ctx) {
      const dir = ctx.cniPath ?? '/usr/lib/cni';
      const has = (p: string) => existsSync(p);
      const user = ['pasta', 'slirp4netns'].filter((t) => ['/usr/bin', '/bin', '/usr/local/bin'].some((d) => has(join(d, t))));
      if (ctx.rootless) {
        if (!user.length) return { status: 'warn', detail: 'neither pasta nor slirp4netns is installed: your sandboxes can have no network but loopback (--network none)', fix: 'apt-get install passt (as root)' };
        return { status: 'ok', detail: `${user.join(' and ')} (for --network pasta|slirp4netns and --publish)` };
      }
      const missing = ['bridge', 'host-local', 'portmap', 'firewall', 'tuning'].filter((p) => !has(join(dir, p)));
      const ipt = ['/usr/sbin/iptables', '/sbin/iptables'].some(has);
      if (missing.length || !ipt) return { status: 'warn', detail: `${missing.length ? `CNI plugins missing from \`${dir}\`: ${missing.join(', ')}` : ''}${missing.length && !ipt ? '; ' : ''}${ipt ? '' : 'iptables is missing'}: --network bridge, user networks and --publish cannot work`, fix: 'apt-get install containernetworking-plugins iptables' };
      return { status: 'ok', detail: `CNI plugins in \`${dir}\`, iptables${user.length ? `, ${user.join(', ')}` : ''}` };
    },
  },
  {
    id: 'net.tun', section: 'networking', title: '/dev/net/tun usable (pasta and slirp4netns)',
    run(ctx) {
      const tun = ctx.netTun ?? '/dev/net/tun';
      if (!ctx.rootless) return { status: 'ok', detail: 'root opens it' };
      try {
        accessSync(tun, constants.R_OK | constants.W_OK);
        return { status: 'ok', detail: `\`${tun}\` is readable and writable by you` };
      } catch (e) {
        return { status: 'warn', detail: `\`${tun}\`: ${(e as NodeJS.ErrnoException).code}: pasta and slirp4netns cannot make your sandboxes' network interface (--publish fails)`, fix: `chmod 0666 ${tun} (as root; Debian's udev rules normally make it so)` };
      }
    },
  },
  {
    id: 'mac', section: 'mandatory access control', title: 'MAC layers (Landlock, SELinux, AppArmor, Smack)',
    run() {
      const r = macHostReport();
      const used = r.layers.filter((l) => l.used).map((l) => l.layer);
      const detail = r.layers.map((l) => `${l.layer}: ${l.detail}`).join('; ');
      if (!used.length) return { status: 'fail', detail: `no MAC layer is usable: sandboxes with --mac required (the default) refuse to start; ${detail}`, fix: 'boot a kernel with Landlock (CONFIG_SECURITY_LANDLOCK, lsm=landlock,...), or run with --mac best-effort' };
      return { status: 'ok', detail: `moat uses ${used.join(' and ')} (LSMs: ${r.lsms.join(',') || 'unknown: /sys/kernel/security is not mounted'}); ${detail}` };
    },
  },
];

/** The context of this process. */
export function hostCheckContext(dataDir?: string): HostCheckContext {
  return {
    user: callerIdentity(), rootless: isRootless(), procSys: '/proc/sys', subuid: '/etc/subuid', subgid: '/etc/subgid',
    newuidmap: NEWUIDMAP, newgidmap: NEWGIDMAP, ...(dataDir ? { dataDir } : {}), cgroupLimits: cgroupLimitsUnavailable,
  };
}

/** Runs the checks (a check that throws is reported as failed). */
export async function runHostChecks(ctx: HostCheckContext = hostCheckContext(), checks: HostCheck[] = HOST_CHECKS): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    let r: CheckOutcome;
    try {
      r = await c.run(ctx);
    } catch (e) {
      r = { status: 'fail', detail: `the check failed: ${(e as Error).message}` };
    }
    out.push({ id: c.id, section: c.section, title: c.title, ...r });
  }
  return out;
}

/** The failing checks that need no probe (for explaining an error synchronously). */
export function failingPrerequisites(ctx: HostCheckContext = hostCheckContext()): CheckResult[] {
  const out: CheckResult[] = [];
  for (const c of HOST_CHECKS) {
    if (c.probe) continue;
    try {
      const r = c.run(ctx) as CheckOutcome;
      if (r.status === 'fail') out.push({ id: c.id, section: c.section, title: c.title, ...r });
    } catch {
      /* a check that cannot run explains nothing */
    }
  }
  return out;
}

/** One line per failing check: what, and the fix. */
export function describeFailing(fails: CheckResult[]): string {
  return fails.map((f) => `${f.title}: ${f.detail}${f.fix ? ` (fix: ${f.fix})` : ''}`).join('; ');
}

/** Refuses up front, naming each failing prerequisite and its fix. */
export function requireHostPrerequisites(dataDir?: string): void {
  const fails = failingPrerequisites(hostCheckContext(dataDir));
  if (fails.length) throw new ManagerError('ERR_HOST', `this host cannot run sandboxes for uid ${process.getuid!()}: ${describeFailing(fails)}`);
}

/** Adds the failing prerequisites to an error of a start (a cryptic `clone: EPERM` becomes
 * the sysctl that forbids it). Errors of the user's config are left as they are. */
export function explainStartFailure(e: unknown, ctx?: HostCheckContext): unknown {
  if (!(e instanceof Error) || (e as { issues?: unknown }).issues) return e;
  let fails: CheckResult[];
  try {
    fails = failingPrerequisites(ctx ?? hostCheckContext());
  } catch {
    return e;
  }
  if (fails.length) e.message += `; this host: ${describeFailing(fails)}`;
  return e;
}
