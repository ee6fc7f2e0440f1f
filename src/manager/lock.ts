// A per-sandbox lock that survives crashes: a file made by link(2) (atomic, and it already
// holds its content) naming the holder's pid and start time. A lock whose holder is gone
// (or whose pid was reused) is taken over.
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { ManagerError } from './errors.js';

function procStart(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function holderAlive(content: string): boolean {
  const [pid, start] = content.trim().split(' ');
  if (!pid || !/^\d+$/.test(pid)) return false;
  const now = procStart(Number(pid));
  return now !== undefined && now === start;
}

/** Takes the lock at `path`; returns the release function. */
export async function takeLock(path: string, what: string, timeoutMs = 60_000): Promise<() => void> {
  const me = `${process.pid} ${procStart(process.pid) ?? ''}\n`;
  // (a random part: two takers in one process, the library's callers, must not share it)
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, me, { mode: 0o600 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
      try {
        linkSync(tmp, path);
        return () => rmSync(path, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let content = '';
      try {
        content = readFileSync(path, 'utf8');
      } catch {
        continue; // released meanwhile
      }
      if (!holderAlive(content)) {
        // move the stale lock aside, then make sure what we moved was the stale one: if a
        // live holder slipped in between, put its lock back
        const aside = `${path}.stale.${process.pid}`;
        try {
          renameSync(path, aside);
          if (readFileSync(aside, 'utf8') !== content) {
            try {
              linkSync(aside, path);
            } catch {
              /* someone holds it again: theirs wins */
            }
          }
          unlinkSync(aside);
        } catch {
          /* another taker moved it first */
        }
        continue;
      }
      if (Date.now() > deadline) throw new ManagerError('ERR_LOCKED', `${what} is locked by process ${content.split(' ')[0]}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}
