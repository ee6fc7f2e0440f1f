// The annotation `run.moat.landlock` (the OCI runtime spec has no Landlock field yet):
//   "off"          no Landlock (also when the annotation is absent)
//   "on"           Landlock required: refuse to start on a kernel without it
//   "best-effort"  Landlock where the kernel has it; otherwise start and say it was skipped
//   {JSON object}  "on" with options:
//     {"mode": "on" | "best-effort",
//      "net": {"bind": [80], "connect": [53]},     TCP port allow-lists (ABI 4); a direction
//                                                  not given is not restricted, [] denies all
//      "scope": ["signal", "abstract_unix_socket"], IPC kept inside the container (ABI 6;
//                                                  default both, [] for none)
//      "log": true}                                 audit-log the container's denials (ABI 7;
//                                                  default true)
import type { ConfigIssue } from '../../spec/issues.js';

/** The annotation key. */
export const LANDLOCK_ANNOTATION = 'run.moat.landlock';

/** The JSON path issues about the annotation are reported against. */
export const LANDLOCK_PATH = `annotations.${LANDLOCK_ANNOTATION}`;

/** IPC scopes by their names in the annotation. */
export const SCOPE_NAMES = { signal: 'LANDLOCK_SCOPE_SIGNAL', abstract_unix_socket: 'LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET' } as const;
export type ScopeName = keyof typeof SCOPE_NAMES;

/** What the annotation asks for (absent: Landlock off). */
export interface LandlockOptions {
  mode: 'on' | 'best-effort';
  net?: { bind?: number[]; connect?: number[] };
  scope: ScopeName[];
  log: boolean;
  /** options the user wrote out, which `on` must honour exactly or refuse */
  explicit: { scope: boolean; log: boolean };
}

function ports(v: unknown, path: string, issues: ConfigIssue[]): number[] | undefined {
  if (!Array.isArray(v) || !v.every((p) => Number.isInteger(p) && p >= 0 && p <= 65535)) {
    issues.push({ code: 'invalid', path, message: 'must be an array of TCP ports (0-65535)' });
    return undefined;
  }
  return [...new Set(v as number[])].sort((a, b) => a - b);
}

function parseObject(o: Record<string, unknown>, issues: ConfigIssue[]): LandlockOptions {
  const opts: LandlockOptions = { mode: 'on', scope: ['signal', 'abstract_unix_socket'], log: true, explicit: { scope: false, log: false } };
  for (const [k, v] of Object.entries(o)) {
    const path = `${LANDLOCK_PATH}.${k}`;
    if (k === 'mode') {
      if (v === 'on' || v === 'best-effort') opts.mode = v;
      else issues.push({ code: 'invalid', path, message: 'must be `on` or `best-effort`' });
    } else if (k === 'net') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        issues.push({ code: 'invalid', path, message: 'must be an object with `bind` and/or `connect`' });
        continue;
      }
      opts.net = {};
      for (const [dir, list] of Object.entries(v)) {
        if (dir !== 'bind' && dir !== 'connect') {
          issues.push({ code: 'unknown', path: `${path}.${dir}`, message: 'unknown key: use `bind` or `connect`' });
          continue;
        }
        const p = ports(list, `${path}.${dir}`, issues);
        if (p) opts.net[dir] = p;
      }
    } else if (k === 'scope') {
      const names = Object.keys(SCOPE_NAMES);
      if (!Array.isArray(v) || !v.every((s) => names.includes(s as string))) {
        issues.push({ code: 'invalid', path, message: `must be an array of ${names.map((n) => `\`${n}\``).join(', ')}` });
        continue;
      }
      opts.scope = [...new Set(v as ScopeName[])];
      opts.explicit.scope = true;
    } else if (k === 'log') {
      if (typeof v === 'boolean') (opts.log = v), (opts.explicit.log = true);
      else issues.push({ code: 'invalid', path, message: 'must be true or false' });
    } else {
      issues.push({ code: 'unknown', path, message: 'unknown key: use `mode`, `net`, `scope` or `log`' });
    }
  }
  return opts;
}

/** Reads the annotation; `options` is undefined when Landlock is off. */
export function parseLandlockAnnotation(value: string | undefined): { options?: LandlockOptions; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const v = value?.trim();
  if (v === undefined || v === 'off') return { issues };
  if (v === 'on' || v === 'best-effort') return { options: parseObject({ mode: v }, issues), issues };
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch {
    o = undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    issues.push({ code: 'invalid', path: LANDLOCK_PATH, message: 'must be `off`, `on`, `best-effort` or a JSON object of options' });
    return { issues };
  }
  const options = parseObject(o as Record<string, unknown>, issues);
  return issues.length ? { issues } : { options, issues };
}
