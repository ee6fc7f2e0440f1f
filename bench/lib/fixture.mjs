// The benchmark's bundles: one busybox root (made once) and two configs on it, both
// `moat-oci spec`'s default (every namespace but user, seccomp, masked paths, the device
// allow-list, 3 capabilities, no_new_privs), with terminal off and another command.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { must } from './proc.mjs';

/** Makes <dir>/rootfs and the bundles <dir>/true and <dir>/sleep; returns their paths. */
export async function makeFixture(dir, repo) {
  const lib = join(repo, 'dist', 'test', 'lib', 'bundle.js');
  if (!existsSync(lib)) throw new Error(`${lib} is missing: run \`npm run build\` first`);
  const { makeRootfs } = await import(lib);
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  makeRootfs(rootfs, { withProbe: false });
  const specDir = join(dir, 'spec');
  mkdirSync(specDir);
  await must([process.execPath, join(repo, 'bin', 'moat-oci.js'), 'spec', '-b', specDir]);
  const base = JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8'));
  const bundles = {};
  for (const [name, args] of [['true', ['/bin/true']], ['sleep', ['/bin/sleep', '100000']]]) {
    const b = join(dir, name);
    mkdirSync(b);
    const c = structuredClone(base);
    c.process.terminal = false;
    c.process.args = args;
    c.root.path = rootfs; // absolute: both bundles share the one root
    writeFileSync(join(b, 'config.json'), JSON.stringify(c, null, 1));
    bundles[name] = b;
  }
  return { rootfs, bundles, config: base };
}

/** A one-line description of the isolation in the config, for the report. */
export function describeConfig(c) {
  const ns = (c.linux?.namespaces ?? []).map((n) => n.type).join(',');
  const sc = c.linux?.seccomp;
  const rules = sc ? sc.syscalls.reduce((a, s) => a + s.names.length, 0) : 0;
  return `namespaces ${ns}; seccomp ${sc ? `${sc.defaultAction}, ${rules} syscalls allowed, ${sc.architectures?.length ?? 0} arches` : 'none'}; ` +
    `caps ${c.process.capabilities?.bounding?.length ?? 0}; noNewPrivileges ${!!c.process.noNewPrivileges}; ` +
    `masked ${c.linux?.maskedPaths?.length ?? 0}, readonly ${c.linux?.readonlyPaths?.length ?? 0}; root ro ${!!c.root.readonly}; devices deny-all + defaults`;
}
