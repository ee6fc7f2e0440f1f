// `--publish [IP:]HOSTPORT:CTPORT[/tcp|udp]`: ports of the host forwarded to the sandbox.
import type { IssueList } from '../../spec/issues.js';
import { parseIPv4 } from './subnet.js';

/** One published port, as the CNI `portMappings` capability names its fields. */
export interface PortMapping {
  hostIP?: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

function port(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Parses one --publish value; adds an issue at `path` and returns undefined if malformed. */
export function parsePublish(v: string, path: string, issues: IssueList): PortMapping | undefined {
  const bad = (why: string) => {
    issues.add('ERR_PUBLISH', path, `\`${v}\` ${why}`);
    return undefined;
  };
  let spec = v;
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = spec.lastIndexOf('/');
  if (slash >= 0) {
    const p = spec.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp') return bad(`has protocol \`${p}\`: use tcp or udp`);
    protocol = p;
    spec = spec.slice(0, slash);
  }
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) return bad('is not [IP:]HOSTPORT:CTPORT[/tcp|udp]');
  const [ip, hp, cp] = parts.length === 3 ? parts : [undefined, ...parts];
  if (ip !== undefined && parseIPv4(ip) === undefined) return bad(`has host address \`${ip}\`: use an IPv4 address`);
  const hostPort = port(hp!);
  if (hostPort === undefined) return bad(`has host port \`${hp}\`: use 1-65535`);
  const containerPort = port(cp!);
  if (containerPort === undefined) return bad(`has container port \`${cp}\`: use 1-65535`);
  return { ...(ip !== undefined && ip !== '0.0.0.0' ? { hostIP: ip } : {}), hostPort, containerPort, protocol };
}

/** Parses every --publish value: each issue names `--publish[i]`; a host port given twice is
 * one too. */
export function parsePublishList(values: string[], issues: IssueList): PortMapping[] {
  const out: PortMapping[] = [];
  values.forEach((v, i) => {
    const m = parsePublish(v, `--publish[${i}]`, issues);
    if (!m) return;
    if (out.some((o) => samePort(o, m))) issues.add('ERR_PUBLISH', `--publish[${i}]`, `host port ${m.hostPort}/${m.protocol} is published twice`);
    out.push(m);
  });
  return out;
}

/** True if two mappings claim the same host port (an address of 0.0.0.0 claims them all). */
export function samePort(a: PortMapping, b: PortMapping): boolean {
  return a.hostPort === b.hostPort && a.protocol === b.protocol && (!a.hostIP || !b.hostIP || a.hostIP === b.hostIP);
}

/** `[IP:]HOSTPORT->CTPORT/PROTO`, for list and inspect. */
export function formatPublish(m: PortMapping): string {
  return `${m.hostIP ?? '0.0.0.0'}:${m.hostPort}->${m.containerPort}/${m.protocol}`;
}
