// moat network create|ls|inspect|rm: user networks (and the built-in moat0).
import { readFileSync } from 'node:fs';
import { UsageError } from '../../args.js';
import { allAttachments, confListPath, createNetwork, listNetworks, readNetwork, removeNetwork } from '../../../manager/network/index.js';
import type { CommandContext } from '../commands.js';
import { out, table } from '../output.js';

const USAGE = 'usage: moat network create NAME [--subnet CIDR] [--isolated] | ls [--json] | inspect NAME | rm NAME';

function members(ctx: CommandContext, name: string): { sandbox: string; addresses: string[]; ports: string[] }[] {
  return allAttachments(ctx.store.layout)
    .filter(({ a }) => a.kind === 'cni' && a.network === name)
    .map(({ sandbox, a }) => ({ sandbox, addresses: a.addresses ?? [], ports: a.publish.map((p) => `${p.hostIP ?? '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`) }));
}

/** Sandboxes defined on a network (running or not). */
function definedOn(ctx: CommandContext, name: string): string[] {
  return ctx.store.names().filter((n) => {
    try {
      const m = ctx.store.read(n).network.mode;
      return m === name || (name === 'moat0' && m === 'bridge');
    } catch {
      return false;
    }
  });
}

export async function network(ctx: CommandContext): Promise<number> {
  const [sub, name, ...rest] = ctx.args;
  const layout = ctx.store.layout;
  const needName = () => {
    if (!name || rest.length) throw new UsageError(USAGE);
    return name;
  };
  switch (sub) {
    case 'create': {
      const n = await createNetwork(layout, needName(), { ...(typeof ctx.flags.subnet === 'string' ? { subnet: ctx.flags.subnet } : {}), isolated: !!ctx.flags.isolated });
      out(ctx.flags.json ? JSON.stringify(n) + '\n' : `${n.name}\n`);
      return 0;
    }
    case 'ls':
    case 'list': {
      if (name) throw new UsageError(USAGE);
      const all = listNetworks(layout).map((n) => ({ ...n, sandboxes: members(ctx, n.name).map((m) => m.sandbox) }));
      if (ctx.flags.json) out(JSON.stringify(all) + '\n');
      else out(table([['NAME', 'SUBNET', 'BRIDGE', 'ISOLATED', 'ATTACHED'], ...all.map((n) => [n.name, n.subnet, n.bridge, n.isolated ? 'yes' : 'no', n.sandboxes.join(',') || '-'])]));
      return 0;
    }
    case 'inspect': {
      const n = readNetwork(layout, needName());
      let confList: unknown;
      try {
        confList = JSON.parse(readFileSync(confListPath(layout, n.name), 'utf8'));
      } catch {
        confList = undefined; // moat0 before its first use
      }
      out(JSON.stringify({ ...n, confList: confList ?? null, confListPath: confListPath(layout, n.name), attached: members(ctx, n.name), definedOn: definedOn(ctx, n.name) }, null, 2) + '\n');
      return 0;
    }
    case 'rm':
    case 'delete':
      await removeNetwork(layout, needName(), [...new Set([...definedOn(ctx, name!), ...members(ctx, name!).map((m) => m.sandbox)])]);
      return 0;
    default:
      throw new UsageError(USAGE);
  }
}
