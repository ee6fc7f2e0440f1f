// Parsers for the cgroup file formats: single values, flat keyed (`key value`) and nested keyed (`8:0 rbytes=1`).

/** The largest value the kernel prints for "unlimited" limits, as runc reports it (u64 max). */
export const CGROUP_MAX = 18446744073709551615;

/** Parses a single number, `max` as CGROUP_MAX; `undefined` for a missing file. */
export function parseCgroupValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === 'max') return CGROUP_MAX;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** Parses `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = parseCgroupValue(v) ?? 0;
  }
  return out;
}

/** One blkio stat entry, runc's shape. */
export interface BlkioEntry { major: number; minor: number; op: string; value: number }

/** Parses v1 `blkio.throttle.io_service*` lines: `8:0 Read 4096` (the `Total` line has no device). */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** Parses v2 `io.stat` (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...`) into runc's v1-shaped bytes and ios lists. */
export function parseIoStatV2(text: string | undefined): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [], ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const major = Number(m[1]), minor = Number(m[2]);
    for (const kv of kvs) {
      const [k, v] = kv.split('=');
      const op = { rbytes: 'Read', wbytes: 'Write', dbytes: 'Discard', rios: 'Read', wios: 'Write', dios: 'Discard' }[k ?? ''];
      if (!op) continue;
      (k!.endsWith('bytes') ? bytes : ios).push({ major, minor, op, value: Number(v) });
    }
  }
  return { bytes, ios };
}
