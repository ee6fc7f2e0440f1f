// Parses and validates an OCI runtime config (config.json), Linux parts. Every problem is
// reported with the JSON path of its field; nothing is thrown for bad input.
import { Fields, isCleanAbsolute, isObject, type Json } from './check.js';
import { IssueList, type ConfigIssue } from './issues.js';
import type { OciHook, OciHooks, OciLinux, OciMount, OciNamespace, OciProcess, OciSpec } from './oci-types.js';
import { capabilityNumber } from './capabilities.js';

/** The result of parsing: a spec when there were no errors, plus warnings either way. */
export interface ParsedOci {
  spec?: OciSpec;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

const U32_MAX = 0xffffffff;
const NAMESPACES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'unbindable', 'runbindable'];
/** RLIMIT_* names known to Linux, in resource number order. */
export const RLIMITS = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];

/** The annotation that asks for the rootfs to be id-mapped to the container's user namespace. */
export const IDMAP_ROOTFS_ANNOTATION = 'run.moat.idmap-rootfs';

/** Annotations that make the root an overlay: `root.path` is its upper dir, these name its
 * read-only lower dirs (colon-separated, top first) and its work dir. With the id-mapped
 * rootfs annotation, every lower dir is id-mapped to the container's user namespace. */
export const OVERLAY_LOWER_ANNOTATION = 'run.moat.overlay.lowerdir';
export const OVERLAY_WORK_ANNOTATION = 'run.moat.overlay.workdir';

/** Parses config.json's document. */
export function parseOciConfig(doc: Json): ParsedOci {
  const issues = new IssueList();
  const warnings = new IssueList();
  if (!isObject(doc)) {
    issues.add('invalid_type', '', 'config must be a JSON object');
    return { issues: issues.items, warnings: [] };
  }
  const f = new Fields(doc, '', issues);
  const ociVersion = f.str('ociVersion', true);
  if (ociVersion !== undefined && !/^1\.\d+\.\d+/.test(ociVersion)) issues.add('unsupported', 'ociVersion', `version \`${ociVersion}\` is not 1.x`);
  const spec: OciSpec = { ociVersion: ociVersion ?? '1.0.0' };
  const root = f.obj_('root', true);
  if (root) {
    const path = root.str('path', true);
    if (path === '') issues.add('required', 'root.path', 'must not be empty');
    spec.root = { path: path ?? '', readonly: root.bool('readonly') ?? false };
  }
  const proc = f.obj_('process', true);
  if (proc) spec.process = parseProcess(proc, issues, warnings);
  const hostname = f.str('hostname');
  if (hostname !== undefined) spec.hostname = checkName(hostname, 'hostname', issues);
  const domainname = f.str('domainname');
  if (domainname !== undefined) spec.domainname = checkName(domainname, 'domainname', issues);
  spec.mounts = f.each('mounts').map((m) => parseMount(m, issues));
  const hooks = f.obj_('hooks');
  if (hooks) spec.hooks = parseHooks(hooks);
  const ann = f.obj_('annotations');
  if (ann) spec.annotations = parseStringMap(ann);
  const linux = f.obj_('linux');
  spec.linux = linux ? parseLinux(linux, issues) : {};
  crossCheck(spec, issues);
  return issues.ok ? { spec, issues: [], warnings: warnings.items } : { issues: issues.items, warnings: warnings.items };
}

function checkName(v: string, path: string, issues: IssueList): string {
  if (v.length > 64 || /[\0/]/.test(v)) issues.add('invalid_value', path, `\`${v}\` is not a valid name (at most 64 characters, no \`/\`)`);
  return v;
}

function parseStringMap(f: Fields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(f.obj)) {
    const v = f.str(k);
    // defineProperty: a key such as `__proto__` is data here, not the object's prototype
    if (v !== undefined) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function parseProcess(p: Fields, issues: IssueList, warnings: IssueList): OciProcess {
  const user = p.obj_('user', true);
  const out: OciProcess = {
    terminal: p.bool('terminal') ?? false,
    user: { uid: 0, gid: 0 },
    cwd: p.str('cwd', true) ?? '/',
    args: p.strs('args', true) ?? [],
    env: p.strs('env') ?? [],
    noNewPrivileges: p.bool('noNewPrivileges') ?? false,
  };
  if (out.args!.length === 0 && p.has('args')) issues.add('required', p.at('args'), 'must name the program to run');
  if (!out.cwd.startsWith('/')) issues.add('invalid_value', p.at('cwd'), `\`${out.cwd}\` must be an absolute path`);
  out.env!.forEach((e, i) => {
    if (!e.includes('=')) issues.add('invalid_value', `${p.at('env')}[${i}]`, `\`${e}\` is not KEY=VALUE`);
  });
  if (user) {
    out.user.uid = user.int('uid', 0, U32_MAX - 1, true) ?? 0;
    out.user.gid = user.int('gid', 0, U32_MAX - 1, true) ?? 0;
    const umask = user.int('umask', 0, 0o777);
    if (umask !== undefined) out.user.umask = umask;
    const gids = user.arr('additionalGids');
    if (gids) {
      out.user.additionalGids = [];
      gids.forEach((g, i) => {
        if (typeof g === 'number' && Number.isInteger(g) && g >= 0 && g < U32_MAX) out.user.additionalGids!.push(g);
        else issues.add('invalid_type', `${user.at('additionalGids')}[${i}]`, 'must be a gid');
      });
    }
    if (user.has('username')) warnings.add('ignored', user.at('username'), 'is a Windows field and is ignored');
  }
  const cs = p.obj_('consoleSize');
  if (cs) out.consoleSize = { height: cs.int('height', 0, 65535, true) ?? 0, width: cs.int('width', 0, 65535, true) ?? 0 };
  const caps = p.obj_('capabilities');
  if (caps) {
    out.capabilities = {};
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
      const names = caps.strs(set);
      if (!names) continue;
      names.forEach((n, i) => {
        if (capabilityNumber(n) === undefined) issues.add('unknown_capability', `${caps.at(set)}[${i}]`, `unknown capability \`${n}\``);
      });
      out.capabilities[set] = names;
    }
  }
  out.rlimits = p.each('rlimits').map((r) => {
    const type = r.str('type', true) ?? '';
    if (type && !RLIMITS.includes(type)) issues.add('invalid_value', r.at('type'), `unknown rlimit \`${type}\``);
    const soft = rlimitField(r, 'soft');
    const hard = rlimitField(r, 'hard');
    if (soft >= 0 && (hard >= 0 ? soft > hard : false)) issues.add('invalid_value', r.at('soft'), `soft limit \`${soft}\` is above the hard limit \`${hard}\``);
    return { type, soft, hard };
  });
  const seen = new Set<string>();
  out.rlimits.forEach((r, i) => {
    if (seen.has(r.type)) issues.add('duplicate', `${p.at('rlimits')}[${i}].type`, `\`${r.type}\` is set twice`);
    seen.add(r.type);
  });
  const oom = p.int('oomScoreAdj', -1000, 1000);
  if (oom !== undefined) out.oomScoreAdj = oom;
  // MAC labels: their format, and whether this host has the LSM, are checked against the host
  // at create (src/policy/mac); a label the host cannot apply is refused there by this path
  for (const mac of ['apparmorProfile', 'selinuxLabel'] as const) {
    const v = p.str(mac);
    if (v) out[mac] = v;
  }
  if (p.has('ioPriority')) issues.add('unsupported', p.at('ioPriority'), 'is not supported yet');
  if (p.has('scheduler')) issues.add('unsupported', p.at('scheduler'), 'is not supported yet');
  if (p.has('commandLine')) issues.add('unsupported', p.at('commandLine'), 'is a Windows field');
  return out;
}

/** An rlimit value: a count, or unlimited (-1, or RLIM_INFINITY as runc and Podman write
 * it, 18446744073709551615), returned as -1. */
function rlimitField(r: Fields, key: 'soft' | 'hard'): number {
  const v = r.obj[key];
  if (v === -1 || (typeof v === 'number' && v >= 18446744073709551615)) return -1;
  return r.int(key, 0, Number.MAX_SAFE_INTEGER, true) ?? 0;
}

function parseMount(m: Fields, issues: IssueList): OciMount {
  const destination = m.str('destination', true) ?? '';
  if (destination && !isCleanAbsolute(destination)) issues.add('invalid_value', m.at('destination'), `\`${destination}\` must be an absolute path without \`..\``);
  const out: OciMount = { destination, options: m.strs('options') ?? [] };
  const type = m.str('type');
  if (type !== undefined) out.type = type;
  const source = m.str('source');
  if (source !== undefined) out.source = source;
  const idmapped = out.options!.some((o) => o === 'idmap' || o === 'ridmap');
  for (const k of ['uidMappings', 'gidMappings'] as const) {
    const maps = parseIdMaps(m, k);
    if (maps) out[k] = maps;
    if (maps && !idmapped) issues.add('invalid_value', m.at(k), 'id mappings on a mount need the `idmap` or `ridmap` option');
  }
  if (idmapped && !out.uidMappings !== !out.gidMappings) issues.add('required', m.at(out.uidMappings ? 'gidMappings' : 'uidMappings'), 'an id-mapped mount needs both uidMappings and gidMappings (or neither, to use the container\'s)');
  const bind = type === 'bind' || out.options!.some((o) => o === 'bind' || o === 'rbind');
  if (idmapped && !bind) issues.add('unsupported', m.at('options'), '`idmap` is supported on bind mounts only');
  if (bind && !source) issues.add('required', m.at('source'), 'a bind mount needs a source');
  if (!bind && !type) issues.add('required', m.at('type'), 'is required unless the options say `bind`');
  return out;
}

function parseHook(h: Fields, issues: IssueList): OciHook {
  const path = h.str('path', true) ?? '';
  if (path && !path.startsWith('/')) issues.add('invalid_value', h.at('path'), `\`${path}\` must be an absolute path`);
  const out: OciHook = { path };
  const args = h.strs('args');
  if (args) out.args = args;
  const env = h.strs('env');
  if (env) out.env = env;
  const timeout = h.int('timeout', 1, 86400);
  if (timeout !== undefined) out.timeout = timeout;
  return out;
}

function parseHooks(f: Fields): OciHooks {
  const out: OciHooks = {};
  for (const kind of HOOK_KINDS) if (f.has(kind)) out[kind] = f.each(kind).map((h) => parseHook(h, f.issues));
  return out;
}

function parseIdMaps(f: Fields, key: string): { containerID: number; hostID: number; size: number }[] | undefined {
  if (!f.has(key)) return undefined;
  return f.each(key).map((m) => ({
    containerID: m.int('containerID', 0, U32_MAX - 1, true) ?? 0,
    hostID: m.int('hostID', 0, U32_MAX - 1, true) ?? 0,
    size: m.int('size', 1, U32_MAX, true) ?? 1,
  }));
}

function parseNamespaces(l: Fields, issues: IssueList): OciNamespace[] {
  const seen = new Set<string>();
  return l.each('namespaces').map((n) => {
    const type = n.str('type', true) ?? '';
    if (type && !(NAMESPACES as readonly string[]).includes(type)) issues.add('invalid_value', n.at('type'), `unknown namespace type \`${type}\``);
    if (seen.has(type)) issues.add('duplicate', n.at('type'), `namespace \`${type}\` is listed twice`);
    seen.add(type);
    const path = n.str('path');
    if (path !== undefined && path !== '' && !path.startsWith('/')) issues.add('invalid_value', n.at('path'), `\`${path}\` must be an absolute path`);
    return path ? { type: type as OciNamespace['type'], path } : { type: type as OciNamespace['type'] };
  });
}

function parseLinux(l: Fields, issues: IssueList): OciLinux {
  const out: OciLinux = { namespaces: parseNamespaces(l, issues) };
  const uid = parseIdMaps(l, 'uidMappings');
  if (uid) out.uidMappings = uid;
  const gid = parseIdMaps(l, 'gidMappings');
  if (gid) out.gidMappings = gid;
  const to = l.obj_('timeOffsets');
  if (to) {
    out.timeOffsets = {};
    for (const clock of Object.keys(to.obj)) {
      if (clock !== 'monotonic' && clock !== 'boottime') issues.add('invalid_value', to.at(clock), `unknown clock \`${clock}\` (monotonic or boottime)`);
      const c = to.obj_(clock);
      if (c) out.timeOffsets[clock] = { secs: c.int('secs', -(2 ** 52), 2 ** 52) ?? 0, nanosecs: c.int('nanosecs', 0, 999999999) ?? 0 };
    }
  }
  out.devices = l.each('devices').map((d) => {
    const type = d.str('type', true) ?? 'c';
    if (!['c', 'b', 'u', 'p'].includes(type)) issues.add('invalid_value', d.at('type'), `device type \`${type}\` is not c, b, u or p`);
    const path = d.str('path', true) ?? '';
    if (path && !isCleanAbsolute(path)) issues.add('invalid_value', d.at('path'), `\`${path}\` must be an absolute path without \`..\``);
    const dev: NonNullable<OciLinux['devices']>[number] = { type: type as 'c', path };
    if (type !== 'p') {
      dev.major = d.int('major', 0, 0xfff, true) ?? 0;
      dev.minor = d.int('minor', 0, 0xfffff, true) ?? 0;
    }
    const mode = d.int('fileMode', 0, 0o7777);
    if (mode !== undefined) dev.fileMode = mode;
    const u = d.int('uid', 0, U32_MAX - 1);
    if (u !== undefined) dev.uid = u;
    const g = d.int('gid', 0, U32_MAX - 1);
    if (g !== undefined) dev.gid = g;
    return dev;
  });
  const cg = l.str('cgroupsPath');
  if (cg !== undefined) out.cgroupsPath = cg;
  const res = l.obj_('resources');
  if (res) out.resources = res.obj as OciLinux['resources'];
  const prop = l.str('rootfsPropagation');
  if (prop !== undefined && prop !== '') {
    if (!PROPAGATIONS.includes(prop)) issues.add('invalid_value', l.at('rootfsPropagation'), `\`${prop}\` is not one of ${PROPAGATIONS.join(', ')}`);
    out.rootfsPropagation = prop;
  }
  const sec = l.obj_('seccomp');
  if (sec) out.seccomp = sec.obj as unknown as OciLinux['seccomp'];
  const sysctl = l.obj_('sysctl');
  if (sysctl) out.sysctl = parseStringMap(sysctl);
  out.maskedPaths = checkPaths(l, 'maskedPaths', issues);
  out.readonlyPaths = checkPaths(l, 'readonlyPaths', issues);
  const ml = l.str('mountLabel');
  if (ml) out.mountLabel = ml;
  const pers = l.obj_('personality');
  if (pers) {
    const domain = pers.str('domain', true) ?? '';
    if (domain && domain !== 'LINUX' && domain !== 'LINUX32') issues.add('invalid_value', pers.at('domain'), `\`${domain}\` is not LINUX or LINUX32`);
    const flags = pers.strs('flags') ?? [];
    if (flags.length) issues.add('unsupported', pers.at('flags'), 'personality flags are not supported');
    out.personality = { domain, flags };
  }
  if (l.has('intelRdt')) issues.add('unsupported', l.at('intelRdt'), 'Intel RDT is not supported');
  return out;
}

function checkPaths(l: Fields, key: string, issues: IssueList): string[] {
  const ps = l.strs(key) ?? [];
  ps.forEach((p, i) => {
    if (!isCleanAbsolute(p)) issues.add('invalid_value', `${l.at(key)}[${i}]`, `\`${p}\` must be an absolute path without \`..\``);
  });
  return ps;
}

/** Rules that tie fields together (namespaces the other fields need). */
function crossCheck(spec: OciSpec, issues: IssueList): void {
  const ns = new Map((spec.linux?.namespaces ?? []).map((n, i) => [n.type, { ...n, i }]));
  const needs = (field: string, type: string, what: string) => {
    const n = ns.get(type as OciNamespace['type']);
    if (!n) issues.add('needs_namespace', field, `${what} needs its own ${type} namespace`);
  };
  if (spec.hostname) needs('hostname', 'uts', 'setting the hostname');
  if (spec.domainname) needs('domainname', 'uts', 'setting the domainname');
  if (spec.linux?.uidMappings?.length || spec.linux?.gidMappings?.length) needs('linux.uidMappings', 'user', 'id mappings');
  const user = ns.get('user');
  if (user && !user.path) {
    if (!spec.linux?.uidMappings?.length) issues.add('required', 'linux.uidMappings', 'a new user namespace needs uidMappings');
    if (!spec.linux?.gidMappings?.length) issues.add('required', 'linux.gidMappings', 'a new user namespace needs gidMappings');
  }
  if (spec.linux?.timeOffsets) needs('linux.timeOffsets', 'time', 'time offsets');
  const mnt = ns.get('mount');
  if (!mnt) issues.add('needs_namespace', 'linux.namespaces', 'a container needs its own mount namespace (moat never mounts in the host\'s)');
  else if (mnt.path) issues.add('unsupported', `linux.namespaces[${mnt.i}].path`, 'joining an existing mount namespace is not supported: the rootfs could not be set up');
  // an id-mapped tree is attached by the container's process into its own mount namespace,
  // so the kernel does not lock its read-only flag: with CAP_SYS_ADMIN in its user namespace
  // the container could clear it and write as the tree's host owners (root, for /usr)
  const idmapped = spec.annotations?.[IDMAP_ROOTFS_ANNOTATION] === 'true' || (spec.mounts ?? []).some((m) => (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap'));
  const admin = (spec.process?.capabilities?.bounding ?? []).findIndex((c) => capabilityNumber(c) === 21);
  if (idmapped && admin >= 0) issues.add('unsafe', `process.capabilities.bounding[${admin}]`, 'CAP_SYS_ADMIN with id-mapped mounts would let the container make them writable and write as their host owners; drop the capability or the id mapping');
  const lower = spec.annotations?.[OVERLAY_LOWER_ANNOTATION], work = spec.annotations?.[OVERLAY_WORK_ANNOTATION];
  if (lower !== undefined || work !== undefined) {
    if (!lower || lower.split(':').some((d) => !d.startsWith('/'))) issues.add('invalid_value', `annotations.${OVERLAY_LOWER_ANNOTATION}`, 'an overlay root needs absolute lower dirs, colon-separated');
    if (!work?.startsWith('/')) issues.add('invalid_value', `annotations.${OVERLAY_WORK_ANNOTATION}`, 'an overlay root needs an absolute work dir');
  }
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const path = `linux.sysctl.${key}`;
    const ipc = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\.[a-z_]+)$/.test(key);
    const uts = key === 'kernel.hostname' || key === 'kernel.domainname';
    if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/.test(key)) issues.add('invalid_value', path, `\`${key}\` is not a sysctl name`);
    else if (ipc) needs(path, 'ipc', `sysctl \`${key}\``);
    else if (uts) needs(path, 'uts', `sysctl \`${key}\``);
    else if (key.startsWith('net.')) needs(path, 'network', `sysctl \`${key}\``);
    else issues.add('not_namespaced', path, `sysctl \`${key}\` is host-wide; a container may not set it`);
  }
}
