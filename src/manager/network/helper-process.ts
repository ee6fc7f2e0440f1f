// The user-mode network helpers (pasta, slirp4netns) run as long as their sandbox, outliving
// the `moat start` that launched them. Each has a marker path (unique to its sandbox) on its
// command line: teardown finds the helper by its recorded pid or, if moat was killed before
// recording it, by scanning /proc for the marker, and never signals a process without it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The command line of a process (empty if it is gone). */
function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Pids of live processes whose command line holds `marker` as one argument. */
export function findHelpers(marker: string, pid?: number): number[] {
  if (pid && cmdline(pid).includes(marker)) return [pid];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    if (cmdline(Number(d)).some((a) => a === marker || a.endsWith(`=${marker}`))) out.push(Number(d));
  }
  return out;
}

/** SIGTERMs the helpers holding `marker`, then SIGKILLs what is left after a short wait. */
export async function stopHelpers(marker: string, pid?: number): Promise<void> {
  let pids = findHelpers(marker, pid);
  for (const p of pids) process.kill(p, 'SIGTERM');
  for (let i = 0; i < 50 && pids.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    pids = pids.filter((p) => findHelpers(marker, p).length);
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
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
