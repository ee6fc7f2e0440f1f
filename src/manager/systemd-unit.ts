// `moat generate systemd`: a unit file that starts and stops a sandbox with the host. The
// sandbox's cgroup is made beneath the unit's, so systemd accounts for it; moat's own stop
// (SIGTERM, then SIGKILL after the grace time) runs before systemd kills what is left.
import type { SandboxDefinition } from './definition.js';

/** What the unit needs to know about where moat is. */
export interface UnitContext {
  node: string;
  cli: string;
  dataDir: string;
  graceSeconds: number;
}

function quote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** The text of `moat-NAME.service`. */
export function systemdUnit(def: SandboxDefinition, c: UnitContext): string {
  const moat = [c.node, c.cli, '--data-dir', c.dataDir].map(quote).join(' ');
  // a non-root user's sandbox is started by that user's systemd instance
  const user = def.userns.mode === 'subids' || def.userns.mode === 'single';
  return [
    `# made by \`moat generate systemd\`; install as ${user ? '~/.config/systemd/user' : '/etc/systemd/system'}/moat-${def.name}.service`,
    '[Unit]',
    `Description=moat sandbox ${def.name} (${def.template} template)`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    // `moat start` returns once the sandbox runs; its processes stay in this unit's cgroup
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${moat} start ${quote(def.name)}`,
    `ExecStop=${moat} stop --time ${c.graceSeconds} ${quote(def.name)}`,
    `TimeoutStopSec=${c.graceSeconds + 10}`,
    '',
    '[Install]',
    `WantedBy=${user ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n');
}
