// create: from a bundle to a container that waits, fully set up, for `start`.
import { closeSync, constants as fsc, existsSync, openSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { buildPlan } from '../plan/build-plan.js';
import { compileLandlock } from '../policy/landlock/index.js';
import { ConfigError } from '../spec/issues.js';
import { landlockHost } from './landlock.js';
import { compileMac } from '../policy/mac/index.js';
import { loadSmackRules, macHost } from './mac/index.js';
import { captureRecipe, cgroupJoinDirs, createContainerCgroup, delegateContainerCgroup, destroyContainerCgroup, deviceProgramFor, keepRecipe, recipeFor, removeCreatedDirs, renderRecipe, withWritesSeen, type ContainerCgroup } from './cgroups/index.js';
import { RuntimeError, withContext } from './errors.js';
import { prepareHelper, runHelper, type HelperHandle, type PreparedHelper, type RecipeReport } from './helper-proc.js';
import { runHooks } from './hooks.js';
import { cgroupHostInfo } from './host.js';
import type { LoadedSpec } from './load-spec.js';
import type { OciSpec } from '../spec/oci-types.js';
import { log, logTap } from './log.js';
import { cgroupfsIsReal } from './cgroups/cgroup-fs.js';
import { encodePlan, type PlanOp } from '../plan/wire.js';
import { isWritableCgroupMount, PH, storePlanCache, uncacheableReason, type PlanCapture, type PlanKey } from './plan-cache.js';
import { ociState, procStat, StateStore, type ContainerRecord } from './state.js';
import { callerName, isRootless, requestedLimits, rootlessMaps } from './rootless.js';

/** Options of `create` (and of `run`, which adds `mode: 'foreground'`). */
export interface CreateOptions {
  root: string;
  id: string;
  loaded: LoadedSpec;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  mode?: 'detach' | 'foreground';
  /** detach mode: record the first process's exit status for `containerExitStatus` */
  recordExit?: boolean;
  /** the CLI's command (plan-cache.ts): store what this create did for the C front */
  planCache?: PlanKey['mode'];
  /** return with the container's lock still held (`Created.release`), for a start that
   * follows at once (runContainer): one lock taken instead of two */
  holdLock?: boolean;
  /** foreground only: no exec fifo and no `start`; the container's process execs as soon as
   * it is set up (runContainer's `run`, as crun's: the status goes from creating to running) */
  direct?: boolean;
  stdio?: ['inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number];
}

/** A created container: its record and the helper (whose exit is the container's, in the foreground). */
export interface Created {
  record: ContainerRecord;
  helper: HelperHandle;
  /** with `holdLock`: releases the container's lock (startContainer's `held`) */
  release?: () => void;
}

// in state.ts, so that the verbs after create load no child_process (see lifecycle.ts)
export { ociState } from './state.js';

/** Maps the container's cgroup dirs to the names a `cgroup` mount shows them under. */
function cgroupMountDirs(cg: ContainerCgroup): Record<string, string> {
  if (cg.mode === 'unified') return { '': cg.dirs.unified! };
  const out: Record<string, string> = {};
  for (const [k, dir] of Object.entries(cg.dirs)) out[k.replace(/^name=/, '')] = dir;
  return out;
}

// a temporary file of an unpredictable name, made new (never one planted there, nor followed
// through a symlink: the pid file's dir may be writable by others), renamed over the pid file
function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${process.pid}.${randomBytes(8).toString('hex')}.pid`);
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
  try {
    try { writeFileSync(fd, String(pid)); } finally { closeSync(fd); }
    renameSync(tmp, path);
  } catch (e) { rmSync(tmp, { force: true }); throw e; }
}

/** The host ids of the container's root when its cgroup is to be delegated to it: it has
 * user and cgroup namespaces of its own and mounts its cgroups read-write (a container that
 * manages its own cgroups, as systemd does). Undefined otherwise, and when any id map reaches
 * host id 0 (the container's files would then be the host root's, limits included). */
export function delegationOwner(spec: OciSpec): { uid: number; gid: number } | undefined {
  const nss = spec.linux?.namespaces ?? [];
  const own = (t: string) => nss.some((n) => n.type === t && !n.path);
  if (!own('user') || !own('cgroup')) return undefined;
  if (!(spec.mounts ?? []).some(isWritableCgroupMount)) return undefined;
  type IdMap = { containerID: number; hostID: number; size: number };
  const reachesHostRoot = (maps: IdMap[] | undefined) => (maps ?? []).some((m) => m.hostID <= 0 && 0 < m.hostID + m.size);
  if (reachesHostRoot(spec.linux?.uidMappings) || reachesHostRoot(spec.linux?.gidMappings)) return undefined;
  const root = (maps: IdMap[] | undefined) => {
    const m = (maps ?? []).find((x) => x.containerID <= 0 && 0 < x.containerID + x.size);
    return m ? m.hostID - m.containerID : undefined;
  };
  const uid = root(spec.linux?.uidMappings), gid = root(spec.linux?.gidMappings);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

// the container's cgroup with the id placeholder of the Plan cache in its dirs
function templateCgroup(cg: ContainerCgroup, id: string): ContainerCgroup {
  const sub = (d: string) => d.split(`/moat-${id}`).join(`/moat-${PH.id}`);
  return { ...cg, dirs: Object.fromEntries(Object.entries(cg.dirs).map(([k, d]) => [k, sub(d)])), created: cg.created.map(sub), ...(cg.deviceBpf ? { deviceBpf: { ...cg.deviceBpf, dir: sub(cg.deviceBpf.dir) } } : {}) };
}

/** Creates a container. On any failure, everything made so far is removed again. */
export async function createContainer(o: CreateOptions): Promise<Created> {
  const rootless = isRootless();
  const cacheable = o.planCache && !o.stdio && isAbsolute(o.root) && o.loaded.raw && !uncacheableReason(o.loaded.spec, { ...o, rootless });
  const capture: PlanCapture | undefined = cacheable ? { writes: [], warnings: [] } : undefined;
  if (capture) logTap.line = (t) => capture.warnings.push(t);
  try {
    const created = await createContainerOnce(o, capture);
    if (capture) {
      const { built, template } = created as Created & { built?: Uint8Array; template?: Uint8Array };
      if (built && template) storePlanCache({ key: { mode: o.planCache!, root: o.root, bundle: o.loaded.bundle, noPivot: !!o.noPivot }, id: o.id, host: cgroupHostInfo(), plan: built, template, record: created.record, capture }, o.loaded.raw!);
    }
    return { record: created.record, helper: created.helper, ...(created.release ? { release: created.release } : {}) };
  } finally {
    if (capture) delete logTap.line;
  }
}

async function createContainerOnce(o: CreateOptions, capture: PlanCapture | undefined): Promise<Created> {
  const store = new StateStore(o.root);
  const { spec, bundle } = o.loaded;
  const mode = o.mode ?? 'detach';
  if (spec.process?.terminal && mode === 'detach' && !o.consoleSocket)
    throw new RuntimeError('ERR_UNSUPPORTED', '`process.terminal` is true: a detached container needs --console-socket to hand the terminal to');
  for (const w of o.loaded.warnings) log('warn', `${w.path}: ${w.message}`);
  const landlock = compileLandlock(spec, landlockHost(o.root));
  if (landlock.issues.length) throw new ConfigError(landlock.issues, `invalid config in \`${bundle}\``);
  for (const w of landlock.warnings) log('warn', `${w.path}: ${w.message}`);
  // SELinux, AppArmor and Smack labels: a label for an LSM this host lacks is refused by field
  const mac = compileMac(spec, macHost());
  if (mac.issues.length) throw new ConfigError(mac.issues, `invalid config in \`${bundle}\``);
  // without root: id maps only of the caller's own ids or subordinate ranges, and cgroups
  // only where limits are asked (refused by name where the host does not let the user)
  const rootless = isRootless();
  const maps = rootless ? rootlessMaps(spec) : { maps: { useNewIdMap: false }, issues: [] };
  if (maps.issues.length) throw new ConfigError(maps.issues, `invalid config in \`${bundle}\``);
  const limits = rootless ? requestedLimits(spec.linux?.resources) : [];
  if (rootless && !limits.length && spec.linux?.cgroupsPath) log('warn', 'linux.cgroupsPath: not used without root and without limits: the container stays in the caller\'s cgroup');
  store.reserve(o.id);
  // the lock is held until the container waits for start, so that a `delete` or `start`
  // racing with this create sees either nothing or a complete container
  const release = await store.lock(o.id);
  let cgroup: ContainerCgroup | undefined;
  let pid = 0;
  const rec: ContainerRecord = {
    id: o.id, bundle, rootfs: resolve(bundle, spec.root!.path), pid: 0, pidStart: '', created: new Date().toISOString(), owner: callerName(),
    annotations: spec.annotations ?? {}, namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type), spec,
  };
  let prepared: PreparedHelper | undefined;
  // a cgroup made before for this config, in this process: its helper makes it again under
  // this id before its Plan comes (cgroup-recipe.ts); not in a CLI create that fills the Plan
  // cache (its capture is of Node's own writes), nor where it cannot be replayed
  const recipeKey = !rootless && !capture && !spec.linux?.cgroupsPath && !delegationOwner(spec) && cgroupfsIsReal() ? JSON.stringify([spec.linux?.resources ?? null, spec.linux?.devices ?? null]) : undefined;
  const recipe = recipeKey === undefined ? undefined : recipeFor(recipeKey);
  // not where one of its dirs is there already (a leftover, or another's of the same name:
  // Node's own path then says `already exists`), so that the dirs it names are this create's
  const rendered = recipe && renderRecipe(recipe, o.id);
  const fastRecipe = rendered && !rendered.dirs.some((d) => existsSync(d)) ? rendered : undefined;
  let recipeSent: Promise<RecipeReport | undefined> | undefined;
  try {
    // the helper server forks this container's helper now (or hands it its spare): its start
    // overlaps the record and the cgroups below; it waits for its Plan (and is killed if none
    // comes)
    const prepare = (withRecipe: boolean) => prepareHelper({ ...(o.stdio ? { stdio: o.stdio } : {}), preserveFds: o.preserveFds ?? 0, ...(rootless || cgroupHostInfo().mode === 'v1' ? {} : { deviceProgram: deviceProgramFor(spec.linux?.devices, spec.linux?.resources?.devices) }), ...(withRecipe && fastRecipe ? { cgroupRecipe: fastRecipe.bytes } : {}) });
    prepared = prepare(true);
    recipeSent = fastRecipe ? prepared?.cgroups : undefined;
    // With a recipe, its helper makes the cgroup while the record is written and the Plan
    // made, and the Plan follows at once (the helper runs it after the recipe; a failed recipe
    // ends the helper, and Node makes the cgroup and starts another, below). The record names
    // the cgroup from its first write: a create killed from then on leaves a record whose
    // delete removes whatever of its dirs exists (a dir not there is no error). Killed before
    // that write (the helper may have begun), it leaves empty dirs no record names, as a
    // create killed between Node's own mkdirs and their record always could: the record is
    // not written first, which cost 0.74 ms of every run here (paired, alternating builds)
    const fast = recipeSent !== undefined;
    if (fast) rec.cgroup = cgroup = fastRecipe!.cgroup;
    // written before anything is made on the host, and again as each thing is made: a create
    // killed at any point leaves a record that `delete` can clean up from (state.json only
    // until the pid is known: the C front's verbs go to Node meanwhile, see StateStore.write)
    store.write(rec, false);
    const cgOpts = { id: o.id, ...(spec.linux?.cgroupsPath ? { cgroupsPath: spec.linux.cgroupsPath } : {}), ...(spec.linux?.resources ? { resources: spec.linux.resources } : {}), ...(spec.linux?.devices ? { devices: spec.linux.devices } : {}) };
    // Node makes it (seeing, for the recipe and for the Plan cache, what it wrote)
    const makeCgroup = (): ContainerCgroup => {
      const make = () => createContainerCgroup(cgroupHostInfo(), cgOpts);
      if (!capture && recipeKey === undefined) return make();
      const { result, writes } = withWritesSeen(make);
      capture?.writes.push(...writes.map(({ path, value }) => ({ path, value })));
      if (recipeKey !== undefined) keepRecipe(recipeKey, captureRecipe(cgroupHostInfo(), result, writes, o.id));
      return result;
    };
    // in a user namespace of its own, a read-write cgroup mount is writable only where the
    // cgroup is delegated to the container's root (its root is not the host's there)
    const ownUserNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
    const planFor = (fifoPath: string | undefined, cg: ContainerCgroup | undefined) => buildPlan(spec, {
      bundle, mode, ...(fifoPath ? { fifoPath } : {}), cgroupDirs: cg ? cgroupJoinDirs(cg) : [], cgroupMounts: cg ? cgroupMountDirs(cg) : {}, ...(cg && ownUserNs ? { cgroupDelegated: cg.delegated ?? [] } : {}),
      rootless, ...(rootless ? { rootlessNewIdMap: maps.maps.useNewIdMap } : {}),
      ...(cg?.deviceBpf ? { deviceBpf: { dir: cg.deviceBpf.dir, insns: Buffer.from(cg.deviceBpf.insns, 'base64') } } : {}),
      ...(o.consoleSocket ? { consoleSocket: o.consoleSocket } : {}),
      noPivot: !!o.noPivot, preserveFds: o.preserveFds ?? 0,
      ...(o.recordExit && mode === 'detach' ? { exitFile: store.exitFile(o.id) } : {}),
      ...(o.loaded.seccomp ? { seccomp: o.loaded.seccomp } : {}),
      ...(landlock.bytes ? { landlock: landlock.bytes } : {}),
      ...(mac.layers.length ? { mac: { attrs: mac.attrs, mountData: mac.mountData } } : {}),
    });
    const direct = !!o.direct && mode === 'foreground' && !capture;
    if (!rootless) {
      if (!cgroup) cgroup = makeCgroup();
    }
    else if (limits.length) {
      // limits asked: only a cgroup the user may write (a delegated one) can hold them
      try {
        cgroup = createContainerCgroup(cgroupHostInfo(), cgOpts);
      } catch (e) {
        const code = ((e as { cause?: NodeJS.ErrnoException }).cause ?? (e as NodeJS.ErrnoException)).code;
        if (!['EACCES', 'EPERM', 'EROFS'].includes(code ?? '') && !/\b(EACCES|EPERM|EROFS)\b/.test((e as Error).message)) throw e;
        throw new ConfigError(limits.map((path) => ({ code: 'rootless_cgroup', path, message: `cgroup limits need root or a delegated cgroup on this host (${(e as Error).message}); remove the limit or run as root` })), `invalid config in \`${bundle}\``);
      }
    } else {
      // nothing asked of cgroups, so nothing is dropped: the container shares the caller's cgroup
      log('debug', "rootless: no cgroup limits asked; the container stays in the caller's cgroup");
      // device rules are a layer the config asked for: say that it is not applied
      if (spec.linux?.resources?.devices?.length) log('warn', 'linux.resources.devices: not enforced without a cgroup (rootless): the container has only the device nodes bound in from the host, with your own access to them');
    }
    if (cgroup) {
      rec.cgroup = cgroup;
      if (!fast) store.write(rec, false);
      const owner = rootless ? undefined : delegationOwner(spec);
      if (owner) {
        cgroup.delegated = delegateContainerCgroup(cgroup, owner.uid, owner.gid);
        store.write(rec, false);
      }
      // asked for, not given: say so (the mount is then read-only, see buildPlan)
      const rw = (spec.mounts ?? []).findIndex(isWritableCgroupMount);
      if (rw >= 0 && ownUserNs && !cgroup.delegated?.length)
        log('warn', `mounts[${rw}]: read-write, but the container's cgroup is not delegated to it, so it is mounted read-only (delegation needs root running moat, a cgroup2 dir made for the container, user and cgroup namespaces of its own, and id maps that map its root and never reach host id 0)`);
      for (const n of cgroup.notes ?? []) log('warn', `${n.path}: ${n.message}`);
    }
    // a `cgroup2` mount needs a cgroup2 dir (a v1-only host, or a rootless container without a cgroup, has none)
    const v2 = (spec.mounts ?? []).findIndex((m) => m.type === 'cgroup2');
    if (v2 >= 0 && !cgroup?.dirs.unified) throw new ConfigError([{ code: 'ERR_MOUNT', path: `mounts[${v2}].type`, message: `\`cgroup2\`: ${cgroup ? 'this host has no cgroup2 hierarchy; use `cgroup`' : 'the container has no cgroup of its own'}` }], `invalid config in \`${bundle}\``);
    // a label's rules go in before its first process runs; they stay while the label may be
    // in use (the same rules for every container of the label, so loading again is harmless)
    if (mac.smackRules.length) loadSmackRules(mac.smackRules);
    const built = planFor(direct ? undefined : store.fifo(o.id), cgroup);
    // the same Plan with the id placeholder, for the C front's cache (plan-cache.ts)
    const template = capture ? encodePlan(planFor(store.fifo(PH.id), cgroup && templateCgroup(cgroup, o.id)).ops) : undefined;
    for (const w of built.warnings) log('warn', `${w.path}: ${w.message}`);
    const start = (ops: PlanOp[]) => (prepared ? prepared.run.bind(prepared) : runHelper)({
      ops, preserveFds: o.preserveFds ?? 0, ...(o.stdio ? { stdio: o.stdio } : {}),
      onSync: async (name) => {
        // MSG_PID comes before any sync point, but `rec.pid` is set by the continuation of
        // `await helper.pid` below, which may not have run yet
        rec.pid ||= await helper.pid;
        if (name === 'seccompState') {
          // what the seccomp agent at `linux.seccomp.listenerPath` gets with the listener fd
          // (OCI runtime spec, "containerProcessState")
          const meta = spec.linux?.seccomp?.listenerMetadata;
          return JSON.stringify({ ociVersion: '1.2.0', fds: ['seccompFd'], pid: rec.pid, ...(meta !== undefined ? { metadata: meta } : {}), state: ociState(rec, 'creating') });
        }
        const state = ociState(rec, 'creating');
        await runHooks('prestart', spec.hooks?.prestart, state);
        await runHooks('createRuntime', spec.hooks?.createRuntime, state);
        return JSON.stringify(state);
      },
    });
    let helper = start(built.ops);
    try {
      pid = await helper.pid;
    } catch (e) {
      const report = fast ? await recipeSent : undefined;
      if (!fast || (report && report.failed < 0)) throw e; // the recipe was done: the Plan failed
      // the recipe stopped at a step (or its helper ended without a report: then any of the
      // dirs may be its): what it made goes, and Node makes the cgroup, errors by config
      // field, and starts another helper on a Plan for it
      recipeSent = undefined;
      cgroup = undefined;
      removeCreatedDirs(fastRecipe!.dirs.slice(0, report ? report.made : fastRecipe!.dirs.length));
      keepRecipe(recipeKey!, undefined);
      log('debug', `cgroup recipe: ${report ? `step ${report.failed} failed (errno ${report.errno})` : 'no report'}; making the cgroup in Node`);
      cgroup = rec.cgroup = makeCgroup();
      store.write(rec, false);
      prepared = prepare(false);
      helper = start(planFor(direct ? undefined : store.fifo(o.id), cgroup).ops);
      pid = await helper.pid;
    }
    recipeSent = undefined;
    if (fast && cgroup === fastRecipe!.cgroup) log('debug', 'cgroup made by its helper from the recipe');
    rec.pid = pid;
    rec.pidStart = procStat(pid)?.start ?? '';
    // recorded as soon as the pid is known, so that a crash from here on leaves a state
    // that `delete` can find and clean up
    store.write(rec);
    await helper.ready;
    // the helper's own process joined the container's cgroups before clone: wait until it is
    // gone (and reaped), so that no one sees it there, or in pids.current, after create
    if (mode === 'detach') await helper.exit;
    if (o.pidFile) writePidFile(resolve(o.pidFile), pid);
    if (!o.holdLock) release();
    return { record: rec, helper, ...(o.holdLock ? { release } : {}), ...(template ? { built: encodePlan(built.ops), template } : {}) } as Created;
  } catch (e) {
    release();
    prepared?.cancel();
    const cleanup: string[] = [];
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    // a helper still making its recipe's dirs (killed above if it had no Plan yet) has
    // stopped before they are removed; one that stopped at a step made only the dirs before it
    if (recipeSent) {
      const report = await recipeSent;
      if (report && cgroup === fastRecipe?.cgroup) cgroup = { ...cgroup!, created: fastRecipe!.dirs.slice(0, report.made) };
    }
    if (cgroup) try { destroyContainerCgroup(cgroup); } catch (ce) { cleanup.push(`remove cgroup: ${(ce as Error).message}`); }
    try { store.remove(o.id); } catch (se) { cleanup.push(`remove state: ${(se as Error).message}`); }
    const err = withContext(e, `create \`${o.id}\``);
    if (cleanup.length) err.message += ` (and cleanup failed: ${cleanup.join('; ')})`;
    if ((e as { issues?: unknown }).issues) throw e;
    throw err;
  }
}
