// The host's MAC modules, read from securityfs, selinuxfs, smackfs and /sys/module: what
// compileMac and planSandboxMac get as a value. `sysRoot` lets tests point it at a fake tree.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { MacHost } from '../../policy/mac/index.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** apparmor_parser: $MOAT_APPARMOR_PARSER, else the first on PATH or in the sbin dirs. */
export function findApparmorParser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MOAT_APPARMOR_PARSER) return existsSync(env.MOAT_APPARMOR_PARSER) ? env.MOAT_APPARMOR_PARSER : undefined;
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) if (d && existsSync(join(d, 'apparmor_parser'))) return join(d, 'apparmor_parser');
  return undefined;
}

/** Probes the MAC modules of this host (or of a fake tree at `sysRoot`). */
export function probeMacHost(o: { sysRoot?: string; parser?: string | null } = {}): MacHost {
  const r = (p: string) => join(o.sysRoot ?? '/', p);
  const lsms = (read(r('sys/kernel/security/lsm')) ?? '').split(',').filter(Boolean);
  const host: MacHost = { lsms };
  if (lsms.includes('selinux') && existsSync(r('sys/fs/selinux/enforce'))) {
    host.selinux = {
      enforcing: read(r('sys/fs/selinux/enforce')) === '1',
      mls: read(r('sys/fs/selinux/mls')) === '1',
      // selinuxfs shows the policy's classes once a policy is loaded
      policyLoaded: existsSync(r('sys/fs/selinux/class/process')),
    };
  }
  if (lsms.includes('apparmor') && read(r('sys/module/apparmor/parameters/enabled')) === 'Y' && existsSync(r('sys/kernel/security/apparmor'))) {
    const parser = o.parser === null ? undefined : o.parser ?? findApparmorParser();
    host.apparmor = { ...(parser ? { parser } : {}), attrDir: existsSync(r('proc/self/attr/apparmor')) };
  }
  if (lsms.includes('smack') && existsSync(r('sys/fs/smackfs'))) host.smack = { load2: existsSync(r('sys/fs/smackfs/load2')) };
  return host;
}

let memo: MacHost | undefined;

/** This host's MAC modules, probed once per process. */
export function macHost(): MacHost {
  return (memo ??= probeMacHost());
}
