// update and events: live resource changes, and usage/OOM events in runc's JSON shape.
import { readFileSync } from 'node:fs';
import type { OciResources } from '../../../spec/oci-types.js';
import { ConfigError, IssueList } from '../../../spec/issues.js';
import { checkResourcesDocument } from '../../../policy/cgroups/update-resources.js';
import { readContainerUsage, updateContainerResources } from '../../../runtime/cgroups/container-resources.js';
import { RuntimeError } from '../../../runtime/errors.js';
import { log } from '../../../runtime/log.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';

function oneId(ctx: CommandContext): string {
  if (ctx.args.length !== 1) throw new UsageError('expected exactly one container ID');
  return ctx.args[0]!;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** `64m`, `1g`, `65536`, `-1` as runc reads --memory (binary units, optional `b`/`ib`). */
export function parseBytes(s: string): number | undefined {
  if (s === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseInteger(s: string): number | undefined {
  return /^-?\d+$/.test(s.trim()) && Number.isSafeInteger(Number(s)) ? Number(s) : undefined;
}

const FLAG_FIELDS: [flag: string, parse: (s: string) => number | string | undefined, set: (r: OciResources, v: never) => void][] = [
  ['memory', parseBytes, (r, v: number) => ((r.memory ??= {}).limit = v)],
  ['memory-swap', parseBytes, (r, v: number) => ((r.memory ??= {}).swap = v)],
  ['cpu-shares', parseInteger, (r, v: number) => ((r.cpu ??= {}).shares = v)],
  ['cpu-quota', parseInteger, (r, v: number) => ((r.cpu ??= {}).quota = v)],
  ['cpu-period', parseInteger, (r, v: number) => ((r.cpu ??= {}).period = v)],
  ['cpuset-cpus', (s) => s, (r, v: string) => ((r.cpu ??= {}).cpus = v)],
  ['cpuset-mems', (s) => s, (r, v: string) => ((r.cpu ??= {}).mems = v)],
  ['pids-limit', parseInteger, (r, v: number) => (r.pids = { limit: v })],
  ['blkio-weight', parseInteger, (r, v: number) => ((r.blockIO ??= {}).weight = v)],
];

/** linux.resources from runc's update flags; every unparsable value is reported at once. */
export function resourcesFromFlags(flags: CommandContext['flags']): OciResources {
  const r: OciResources = {};
  const issues = new IssueList();
  for (const [flag, parse, set] of FLAG_FIELDS) {
    const raw = flags[flag];
    if (typeof raw !== 'string') continue;
    const v = parse(raw);
    if (v === undefined) issues.add('ERR_FLAG_VALUE', `--${flag}`, `\`${raw}\` is not a ${flag.startsWith('memory') ? 'size' : 'number'}`);
    else set(r, v as never);
  }
  if (!issues.ok) throw new ConfigError(issues.items, 'update');
  return r;
}

function readResourcesFile(file: string): OciResources {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new RuntimeError('ERR_IO', `read \`${file === '-' ? 'stdin' : file}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ code: 'ERR_JSON', path: '', message: `not JSON: ${(e as Error).message}` }], `update: \`${file}\``);
  }
  const issues = checkResourcesDocument(doc);
  if (issues.length) throw new ConfigError(issues, `update: \`${file}\``);
  return doc as OciResources;
}

export async function update(ctx: CommandContext): Promise<number> {
  const id = oneId(ctx);
  const flagNames = FLAG_FIELDS.map(([f]) => f).filter((f) => ctx.flags[f] !== undefined);
  if (typeof ctx.flags.resources === 'string' && flagNames.length)
    throw new UsageError(`--resources cannot be combined with ${flagNames.map((f) => `--${f}`).join(', ')}`);
  const patch = typeof ctx.flags.resources === 'string' ? readResourcesFile(ctx.flags.resources) : resourcesFromFlags(ctx.flags);
  const notes = await updateContainerResources(ctx.root, id, patch);
  for (const n of notes) log('warn', `${n.path}: ${n.message}`);
  return 0;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`5s`, `250ms`, `1m30s`) in milliseconds, as runc's --interval takes it. */
export function parseDurationMs(s: string): number | undefined {
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== s) return undefined;
  return parts.reduce((ms, p) => ms + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

// the OOM count is polled this often (v1 has no inotify-able counter, and no eventfd in Node)
const OOM_POLL_MS = 100;

const line = (o: unknown) => out(JSON.stringify(o) + '\n');

export async function events(ctx: CommandContext): Promise<number> {
  const id = oneId(ctx);
  const raw = (ctx.flags.interval as string | undefined) ?? '5s';
  const interval = parseDurationMs(raw);
  if (!interval || interval <= 0) throw new UsageError(`--interval must be a positive duration like \`5s\`, not \`${raw}\``);
  const first = readContainerUsage(ctx.root, id);
  if (!first) throw new RuntimeError('ERR_NOT_FOUND', `container \`${id}\` does not exist`);
  if (first.status === 'stopped') throw new RuntimeError('ERR_NOT_RUNNING', `container \`${id}\` is not running`);
  if (ctx.flags.stats) {
    line({ type: 'stats', id, data: first.stats });
    return 0;
  }
  // a stream until the container stops (or is deleted): stats every interval, oom as it happens
  let ooms = first.oomKills;
  let nextStats = Date.now() + interval;
  for (;;) {
    await new Promise((r) => setTimeout(r, Math.min(OOM_POLL_MS, Math.max(1, nextStats - Date.now()))));
    const u = readContainerUsage(ctx.root, id);
    if (!u) return 0;
    for (; ooms < u.oomKills; ooms++) line({ type: 'oom', id });
    if (u.status === 'stopped') return 0;
    if (Date.now() >= nextStats) {
      line({ type: 'stats', id, data: u.stats });
      nextStats += interval * Math.max(1, Math.ceil((Date.now() - nextStats) / interval));
    }
  }
}
