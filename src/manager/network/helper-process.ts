// The user-mode network helpers (pasta, slirp4netns) run as long as their sandbox, outliving
// the `moat start` that launched them. Each has a marker path (unique to its sandbox) on its
// command line: teardown finds the helper by its recorded pid (with the process's start time,
// recorded with it) or, if moat was killed before recording it, by scanning /proc for the
// marker. A process is signalled only if it is a helper by every sign: its executable name
// (pasta, passt*, slirp4netns), our uid, our network namespace (a sandbox's processes are in
// the sandbox's, so one carrying the marker in its argv is never taken), the marker on its
// command line, and, when recorded, its start time (a reused pid is another process).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** The command line of a process (empty if it is gone). */
function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** comm and start time (clock ticks since boot) of a process, undefined if it is gone. */
export function procStat(pid: number): { comm: string; start: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const rest = s.slice(close + 2).split(' ');
    return { comm: s.slice(s.indexOf('(') + 1, close), start: Number(rest[19]) }; // field 22
  } catch {
    return undefined;
  }
}

/** The start time of process `pid` (to record with the pid), undefined if it is gone. */
export function startTimeOf(pid: number): number | undefined {
  return procStat(pid)?.start;
}

const HELPER_NAME = /^(pasta|passt|slirp4netns)(\.[A-Za-z0-9_]+)?$/;

function netnsIno(pid: number | 'self'): number | 'denied' | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EACCES' ? 'denied' : undefined;
  }
}

function holdsMarker(pid: number, marker: string): boolean {
  return cmdline(pid).some((a) => a === marker || a.endsWith(`=${marker}`));
}

/** True if `pid` is a helper holding `marker` by every sign (see the header). */
function isHelper(pid: number, marker: string, start?: number): boolean {
  const st = procStat(pid);
  if (!st || !HELPER_NAME.test(st.comm)) return false;
  if (start !== undefined && st.start !== start) return false;
  try {
    if (statSync(`/proc/${pid}`).uid !== (process.getuid?.() ?? 0)) return false;
  } catch {
    return false;
  }
  // A user's pasta isolates itself in a user namespace of its own, so the user may not read
  // its namespace links (EACCES). A sandbox's process that has exec'd is readable by the user
  // (its namespace is the user's), so it is still told apart; one that hid itself the same way
  // could only be killed at its own or a sandbox's teardown, which it could do itself.
  const own = netnsIno('self');
  const its = netnsIno(pid);
  if (own === undefined || (its !== 'denied' && its !== own)) return false;
  return holdsMarker(pid, marker);
}

/** Pids of live helpers holding `marker`: the recorded one if it still is one, else (no pid
 * recorded) those found by scanning /proc. */
export function findHelpers(marker: string, pid?: number, start?: number): number[] {
  if (pid) return isHelper(pid, marker, start) ? [pid] : [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    if (isHelper(Number(d), marker)) out.push(Number(d));
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // gone meanwhile
  }
}

/** SIGTERMs the helpers holding `marker`, then SIGKILLs what is left after a short wait;
 * each one checked again before each signal. */
export async function stopHelpers(marker: string, pid?: number, start?: number): Promise<void> {
  const found = findHelpers(marker, pid, start).map((p) => ({ p, s: startTimeOf(p) }));
  for (const { p } of found) signal(p, 'SIGTERM');
  // once verified, a helper is the process of that pid and start time (unique in a boot):
  // while it exits, its name or namespace links may already have changed
  const same = ({ p, s }: { p: number; s: number | undefined }) => s !== undefined && startTimeOf(p) === s;
  let left = found;
  for (let i = 0; i < 50 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(same);
  }
  for (const x of left) if (same(x)) signal(x.p, 'SIGKILL');
  for (let i = 0; i < 50 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(same);
  }
}

/** The global IPv4 addresses in the network namespace of `pid` (`A.B.C.D/N`). */
export function netnsAddresses(pid: number): string[] {
  const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-4', '-j', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' });
  try {
    const links = JSON.parse(r.stdout) as { addr_info?: { local: string; prefixlen: number }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
  } catch {
    return [];
  }
}
