// Loading what the MAC backends need into the kernel: generated AppArmor profiles (through
// apparmor_parser, removed through apparmorfs `.remove`) and Smack rules (smackfs `load2`).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { RuntimeError } from '../errors.js';

const APPARMOR_REMOVE = '/sys/kernel/security/apparmor/.remove';
const SMACK_LOAD2 = '/sys/fs/smackfs/load2';

/** Loads (or replaces) a profile with `apparmor_parser -r`, the text on stdin. */
export function loadApparmorProfile(parser: string, text: string, name: string): void {
  // -K: no cache (a generated profile changes with moat); -Q would skip the kernel load
  const r = spawnSync(parser, ['--replace', '--skip-cache'], { input: text, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? ((r.stderr ?? '').trim() || `status ${r.status}`);
    throw new RuntimeError('ERR_MAC', `load AppArmor profile \`${name}\` with \`${parser}\`: ${why}`);
  }
}

/** Removes a loaded profile; a profile that is not loaded is no error. */
export function removeApparmorProfile(name: string, removeFile = APPARMOR_REMOVE): void {
  let fd: number | undefined;
  try {
    fd = openSync(removeFile, 'w');
    writeSync(fd, name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && fd !== undefined) return; // no such profile
    if (code === 'ENOENT' && fd === undefined) return; // no apparmorfs: nothing can be loaded
    throw new RuntimeError('ERR_MAC', `remove AppArmor profile \`${name}\`: ${(e as Error).message}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes Smack rules, one `load2` write each (`subject object access`). */
export function loadSmackRules(rules: string[], load2 = SMACK_LOAD2): void {
  for (const rule of rules) {
    let fd: number | undefined;
    try {
      fd = openSync(load2, 'w');
      writeSync(fd, rule);
    } catch (e) {
      throw new RuntimeError('ERR_MAC', `load Smack rule \`${rule}\` into \`${load2}\`: ${(e as Error).message}`, { cause: e });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
