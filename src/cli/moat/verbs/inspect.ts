// moat inspect: the effective configuration and every security layer.
import { inspectSandbox, type SandboxReport } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';
import { oneName } from '../sandbox-flags.js';

function text(r: SandboxReport): string {
  const lines = [
    `name:       ${r.name}`,
    `status:     ${r.status}${r.pid ? ` (pid ${r.pid})` : ''}${r.exitCode !== undefined ? ` (exit status ${r.exitCode})` : ''}`,
    `template:   ${r.template}`,
    `command:    ${r.command.join(' ')}${r.init ? ` (--init ${r.init}: \`moat stop\` sends SIGRTMIN+3, its halt signal)` : ''}`,
    `hostname:   ${r.hostname}`,
    `created:    ${r.created}`,
    `rootfs:     ${r.rootfs}`,
    `log:        ${r.consoleLog}${r.init === 'systemd' ? ` (systemd's services log to its journal: moat exec ${r.name} -- journalctl)` : ''}`,
    `filesystem: root ${r.filesystem.root}; host, read-only: ${r.filesystem.readOnlyHost.join(' ')}; private, writable: ${r.filesystem.writable.join(' ') || 'none (--read-only)'}; tmpfs: ${r.filesystem.tmpfs.join(' ')}`,
    ...r.filesystem.volumes.map((v) => `volume:     ${v.host} -> ${v.container} (${v.readonly ? 'ro' : 'rw'})`),
    `limits:     memory ${r.limits.memory}, cpus ${r.limits.cpus}, pids ${r.limits.pids ?? 'none'}${r.limits.note ? ` (${r.limits.note})` : ''}`,
    `network:    ${r.network.mode}${r.network.unsafe ? ' (UNSAFE)' : ''}: ${r.network.detail}`,
    ...(r.network.addresses.length ? [`address:    ${r.network.addresses.join(' ')}${r.network.gateway ? ` (gateway ${r.network.gateway}${r.network.hostInterface ? `, host side ${r.network.hostInterface}` : ''})` : ''}`] : []),
    ...(r.network.ports.length ? [`ports:      ${r.network.ports.join(' ')}${r.network.attached ? '' : ' (when running)'}`] : []),
    `mac:        ${r.mac}`,
    'security:',
    ...r.security.flatMap((l) => [
      `  ${l.active ? '[active]' : '[off]   '} ${l.layer}: ${l.detail}`,
      ...(l.observed ? [`             observed: ${l.observed}`] : []),
    ]),
  ];
  return lines.join('\n') + '\n';
}

export async function inspect(ctx: CommandContext): Promise<number> {
  const r = inspectSandbox(ctx.store, oneName(ctx, 'inspect NAME [--json]'));
  out(ctx.flags.json ? JSON.stringify(r, null, 2) + '\n' : text(r));
  return 0;
}
