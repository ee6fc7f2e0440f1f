// A host command run as root of a throwaway user namespace, for an unprivileged caller
// whose files must change hands within its subordinate ids (`podman unshare` does the same).
// The namespace maps the caller's own ids to 0 and a subordinate range from 1 up, so that
// root there may chown the caller's files to those ids (it holds CAP_CHOWN over every mapped
// id) and remove trees that the ids own. Nothing else is isolated: the command sees the host's
// files, as the caller does.
import { RuntimeError } from './errors.js';
import { runHelper } from './helper-proc.js';

/** CLONE_NEWUSER (sched.h). */
const CLONE_NEWUSER = 0x10000000;

/** A subordinate range the namespace maps from id 1 up (uid and gid ranges may start apart). */
export interface SubidSpan {
  uid: number;
  gid: number;
  size: number;
}

/** The kernel's map text: "inside outside count" lines. */
function idMapText(rows: [number, number, number][]): string {
  return rows.map((r) => `${r.join(' ')}\n`).join('');
}

/** Runs `args` (an absolute path first) in the namespace; throws with its stderr on failure. */
export async function runInUserNamespace(span: SubidSpan, args: string[], what: string): Promise<void> {
  const uid = process.getuid!(), gid = process.getgid!();
  const ops = [
    // VALUE bit 2: the setuid newuidmap/newgidmap write the maps (checked against /etc/subuid)
    { op: 'clone' as const, flags: CLONE_NEWUSER, mode: 1, value: 4, uidMap: idMapText([[0, uid, 1], [1, span.uid, span.size]]), gidMap: idMapText([[0, gid, 1], [1, span.gid, span.size]]), origin: what },
    { op: 'exec' as const, path: args[0]!, args, env: ['PATH=/usr/bin:/bin', 'LC_ALL=C'], origin: what },
  ];
  const h = runHelper({ ops, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  h.child?.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const code = await h.exit;
  if (code !== 0) throw new RuntimeError('ERR_HELPER', `${what}: \`${args.join(' ')}\` in a user namespace failed (status ${code})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(0, 3).join('; ')}` : ''}`);
}
