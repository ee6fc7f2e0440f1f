// IPv4 subnets of moat networks: parsing, overlap, and picking a free /24 for a new network.
// moat's own range is 10.129.0.0/16: `moat0` is 10.129.0.0/24 and user networks without
// --subnet get the next free 10.129.N.0/24 (Docker uses 172.17-31.x, podman 10.88.x,
// Kubernetes CNIs 10.42-10.244.x: 10.129 clashes with none of their defaults).

/** A parsed IPv4 CIDR. */
export interface Subnet {
  /** network address as an unsigned 32-bit number */
  base: number;
  prefix: number;
}

/** moat's own address range. */
export const MOAT_RANGE = '10.129.0.0/16';
/** The default network's subnet. */
export const MOAT0_SUBNET = '10.129.0.0/24';

/** Parses a dotted quad; undefined if malformed. */
export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Formats an unsigned 32-bit address. */
export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `A.B.C.D/N` (host bits must be zero); a message saying what is wrong otherwise. */
export function parseSubnet(s: string): Subnet | string {
  const [ip, p, extra] = s.split('/');
  const base = ip === undefined ? undefined : parseIPv4(ip);
  if (base === undefined || p === undefined || extra !== undefined || !/^\d{1,2}$/.test(p)) return `\`${s}\` is not an IPv4 CIDR like 10.129.5.0/24`;
  const prefix = Number(p);
  if (prefix < 8 || prefix > 29) return `\`${s}\`: the prefix must be between /8 and /29`;
  if ((base & ~mask(prefix)) >>> 0 !== 0) return `\`${s}\` has host bits set (did you mean ${formatIPv4((base & mask(prefix)) >>> 0)}/${prefix}?)`;
  return { base, prefix };
}

/** `A.B.C.D/N`. */
export function formatSubnet(n: Subnet): string {
  return `${formatIPv4(n.base)}/${n.prefix}`;
}

/** True if two subnets share any address. */
export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/** The gateway (first host address) of a subnet: the bridge's own address. */
export function gatewayOf(n: Subnet): string {
  return formatIPv4(n.base + 1);
}

/** The first /24 of moat's range that overlaps none of `used` (other networks' subnets and
 * the host's routes); undefined when the range is full. */
export function pickFreeSubnet(used: Subnet[]): Subnet | undefined {
  const range = parseSubnet(MOAT_RANGE) as Subnet;
  for (let i = 1; i < 256; i++) {
    const cand = { base: range.base + i * 256, prefix: 24 };
    if (!used.some((u) => overlaps(u, cand))) return cand;
  }
  return undefined;
}

/** Parses a route destination (`A.B.C.D` or `A.B.C.D/N`, any prefix, host bits ignored). */
export function parseRouteDst(s: string): Subnet | undefined {
  const [ip, p] = s.split('/');
  const base = parseIPv4(ip ?? '');
  const prefix = p === undefined ? 32 : Number(p);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  return { base: (base & mask(prefix)) >>> 0, prefix };
}
