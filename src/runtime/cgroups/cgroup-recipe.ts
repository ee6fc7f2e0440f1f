// A container's cgroup as steps for the helper to make (native/server.c, "The cgroup recipe").
// createContainerCgroup decides and makes a container's cgroup from its config; a process that
// runs many containers of one config (the library path) gets the same dirs and writes every
// time, under another id. Captured once from what createContainerCgroup did, they are handed
// to the next container's helper in its SPAWN, which makes them while Node goes on with the
// state record and the Plan, instead of Node doing ~10 mkdirs and a dozen writes itself with
// its Plan waiting (~1.9 ms of Node's time per container in the bench's rounds). The helper
// only replays: any failure there, and TypeScript removes what it made and makes the cgroup
// itself, with its errors by config field. What cannot be replayed is not captured: a config
// `cgroupsPath` (no id in it: two containers would share it), dirs made above the container's
// own (nested paths), writes outside its dirs, an id in a value.
import type { CgroupHost, ContainerCgroup } from './cgroup-types.js';
import { cgroupfsHooks } from './cgroup-fs.js';
import { placeContainerCgroup } from './cgroup-placement.js';

/** One step, relative to the container's dir of a controller key (`unified` for cgroup2). */
export type Step =
  | { kind: 'mkdir'; key: string }
  | { kind: 'write'; key: string; file: string; value: string }
  | { kind: 'inherit'; key: string; file: string };

/** A container's cgroup without its id: the steps, and the ContainerCgroup they make. */
export interface CgroupRecipe {
  host: CgroupHost;
  steps: Step[];
  /** the controller keys of the dirs made, in order */
  created: string[];
  deviceBpf?: { key: string; insns: string };
  notes?: ContainerCgroup['notes'];
}

/** What createContainerCgroup wrote, in order; `inherit`: a new cpuset dir's value copied
 * from its parent (inheritCpuset), which the helper reads from the parent again. */
export interface CapturedWrite {
  path: string;
  value: string;
  inherit?: boolean;
}

const MKDIR = 1, WRITE = 2, INHERIT = 3;

/** Runs `make` (a createContainerCgroup) seeing every cgroupfs write it does, in order, with
 * the new cpuset dirs' values copied from a parent marked `inherit` (cgroupfsHooks.inherit). */
export function withWritesSeen<T>(make: () => T): { result: T; writes: CapturedWrite[] } {
  const { write, inherit } = cgroupfsHooks;
  const writes: CapturedWrite[] = [];
  let inheriting: string | undefined;
  cgroupfsHooks.write = (p, v) => {
    write(p, v);
    writes.push({ path: p, value: v, ...(inheriting === p ? { inherit: true } : {}) });
    inheriting = undefined;
  };
  cgroupfsHooks.inherit = (p) => ((inheriting = p), inherit(p));
  try {
    return { result: make(), writes };
  } finally {
    cgroupfsHooks.write = write;
    cgroupfsHooks.inherit = inherit;
  }
}

/**
 * The recipe of a cgroup createContainerCgroup just made for `id` (default placement, no
 * delegation), from the dirs it created and the writes it did; undefined where it cannot be
 * replayed for another id.
 */
export function captureRecipe(host: CgroupHost, cg: ContainerCgroup, writes: CapturedWrite[], id: string): CgroupRecipe | undefined {
  const placed = placeContainerCgroup(host, id);
  if (placed.issues.length || cg.delegated?.length) return undefined;
  const keys = Object.keys(placed.dirs);
  if (keys.length !== Object.keys(cg.dirs).length || keys.some((k) => cg.dirs[k] !== placed.dirs[k])) return undefined;
  const keyOf = (dir: string) => keys.find((k) => placed.dirs[k] === dir);
  const steps: Step[] = [];
  const created: string[] = [];
  for (const dir of cg.created) {
    const key = keyOf(dir);
    if (!key) return undefined; // a dir above the container's own
    steps.push({ kind: 'mkdir', key });
    created.push(key);
    // a new v1 cpuset dir takes its parent's cpus and mems if it has none (inheritCpuset):
    // always a step, whatever the capture saw (with `cgroup.clone_children` the kernel had
    // filled them, and it may not next time; the step leaves a filled one alone)
    if (key === 'cpuset' && host.mode !== 'unified') for (const file of ['cpuset.cpus', 'cpuset.mems']) steps.push({ kind: 'inherit', key, file });
  }
  for (const w of writes) {
    const slash = w.path.lastIndexOf('/');
    const key = keyOf(w.path.slice(0, slash));
    const file = w.path.slice(slash + 1);
    if (!key || w.value.includes(id) || w.value.includes('\0') || !file) return undefined;
    if (w.inherit && key === 'cpuset') continue; // a step already (above)
    steps.push(w.inherit ? { kind: 'inherit', key, file } : { kind: 'write', key, file, value: w.value });
  }
  let deviceBpf: CgroupRecipe['deviceBpf'];
  if (cg.deviceBpf) {
    const key = keyOf(cg.deviceBpf.dir);
    if (!key) return undefined;
    deviceBpf = { key, insns: cg.deviceBpf.insns };
  }
  return { host, steps, created, ...(deviceBpf ? { deviceBpf } : {}), ...(cg.notes ? { notes: cg.notes } : {}) };
}

/** For tests: changes the steps a recipe is rendered with (a step the kernel refuses shows
 * the helper's failure and Node's fallback). */
export const recipeTesting: { tamper?: (steps: readonly Step[]) => Step[] } = {};

/** The recipe for container `id`: the ContainerCgroup it makes and the steps as the helper
 * reads them; undefined if `id` cannot be placed (createContainerCgroup then says why). */
export function renderRecipe(r: CgroupRecipe, id: string): { cgroup: ContainerCgroup; bytes: Uint8Array; dirs: string[] } | undefined {
  const placed = placeContainerCgroup(r.host, id);
  if (placed.issues.length) return undefined;
  const steps = recipeTesting.tamper ? recipeTesting.tamper(r.steps) : r.steps;
  const dir = (key: string) => placed.dirs[key]!;
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s);
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    parts.push(n, b);
  };
  for (const s of steps) {
    if (s.kind === 'mkdir') {
      parts.push(Buffer.of(MKDIR));
      str(dir(s.key));
    } else if (s.kind === 'write') {
      parts.push(Buffer.of(WRITE));
      str(`${dir(s.key)}/${s.file}`);
      str(s.value);
    } else {
      // a dir made here is placed directly beneath its parent (captureRecipe's check)
      const d = dir(s.key);
      parts.push(Buffer.of(INHERIT));
      str(`${d}/${s.file}`);
      str(`${d.slice(0, d.lastIndexOf('/'))}/${s.file}`);
    }
  }
  const dirs = r.created.map(dir);
  const cgroup: ContainerCgroup = {
    mode: r.host.mode, dirs: { ...placed.dirs }, created: dirs,
    ...(r.deviceBpf ? { deviceBpf: { dir: dir(r.deviceBpf.key), insns: r.deviceBpf.insns } } : {}),
    ...(r.notes ? { notes: r.notes } : {}),
  };
  return { cgroup, bytes: Buffer.concat(parts), dirs };
}

/** Recipes of this process, by the config's cgroup fields; a few kept, the oldest dropped. */
const recipes = new Map<string, CgroupRecipe>();
const MAX_RECIPES = 16;

export function recipeFor(key: string): CgroupRecipe | undefined {
  return recipes.get(key);
}

export function keepRecipe(key: string, r: CgroupRecipe | undefined): void {
  recipes.delete(key);
  if (!r) return;
  if (recipes.size >= MAX_RECIPES) recipes.delete(recipes.keys().next().value!);
  recipes.set(key, r);
}
