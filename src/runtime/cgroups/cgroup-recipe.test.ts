// The cgroup recipe against createContainerCgroup on the fake cgroupfs: what Node made for one
// id, captured and rendered for another, then replayed step by step as native/server.c does
// (a replayer here reads the same bytes), makes the very tree createContainerCgroup makes for
// that id; and what cannot be replayed is not captured.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupfsHooks } from './cgroup-fs.js';
import { makeFakeCgroupfs, type FakeCgroupfs } from './fake-cgroupfs.js';
import { probeCgroupHost } from './probe-cgroup-host.js';
import { createContainerCgroup, type CreateCgroupOptions } from './create-container-cgroup.js';
import { captureRecipe, renderRecipe, withWritesSeen, type CapturedWrite } from './cgroup-recipe.js';
import type { CgroupHost, ContainerCgroup } from './cgroup-types.js';

let fake: FakeCgroupfs | undefined;
afterEach(() => { fake?.cleanup(); fake = undefined; });

function setup(mode: 'v1' | 'hybrid' | 'unified'): CgroupHost {
  fake = makeFakeCgroupfs(mode);
  return probeCgroupHost({ mountinfo: fake.mountinfo, procSelfCgroup: fake.procSelfCgroup, root: fake.root });
}

/** createContainerCgroup with its writes seen as create.ts sees them (withWritesSeen). */
function makeCapturing(host: CgroupHost, opts: CreateCgroupOptions): { cg: ContainerCgroup; writes: CapturedWrite[] } {
  const { result, writes } = withWritesSeen(() => createContainerCgroup(host, opts));
  return { cg: result, writes };
}

/** What the helper does with the bytes (native/server.c run_recipe), on the fake. */
function replay(bytes: Uint8Array): void {
  const b = Buffer.from(bytes);
  let at = 0;
  const str = () => {
    const n = b.readUInt32LE(at);
    const s = b.subarray(at + 4, at + 4 + n).toString();
    at += 4 + n;
    return s;
  };
  while (at < b.length) {
    const kind = b[at++];
    if (kind === 1) {
      const d = str();
      mkdirSync(d);
      cgroupfsHooks.afterMkdir(d);
    } else if (kind === 2) {
      const f = str();
      writeFileSync(f, str());
    } else if (kind === 3) {
      const f = str(), parent = str();
      if (readFileSync(f, 'utf8').trim() === '') writeFileSync(f, readFileSync(parent, 'utf8').trim());
    } else throw new Error(`step kind ${kind}`);
  }
}

/** Every file under the container's dirs, with the id taken out of the paths. */
function tree(cg: ContainerCgroup, id: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.split(`/moat-${id}`).join('/moat-ID')] = readFileSync(p, 'utf8');
    }
  };
  for (const d of new Set(Object.values(cg.dirs))) walk(d);
  return out;
}

const resources = { memory: { limit: 1 << 24 }, pids: { limit: 64 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
// cpuset is not handed to the fake cgroup2 dir's children: pinned cpus only where it is v1
const withCpus = (mode: string) => (mode === 'unified' ? resources : { ...resources, cpu: { ...resources.cpu, cpus: '1' } });

for (const mode of ['v1', 'hybrid', 'unified'] as const) {
  test(`${mode}: a recipe captured for one id and replayed for another makes createContainerCgroup's tree`, () => {
    const host = setup(mode);
    const { cg, writes } = makeCapturing(host, { id: 'first', resources: withCpus(mode) });
    const r = captureRecipe(host, cg, writes, 'first');
    assert.ok(r, 'captured');
    if (mode !== 'unified') assert.ok(r.steps.some((s) => s.kind === 'inherit'), 'the cpuset dir takes its parent\'s cpus and mems');
    const out = renderRecipe(r, 'second')!;
    replay(out.bytes);
    const made = createContainerCgroup(host, { id: 'third', resources: withCpus(mode) });
    assert.deepEqual(tree(out.cgroup, 'second'), tree(made, 'third'), 'the same files, the same values');
    assert.deepEqual(out.cgroup.dirs, Object.fromEntries(Object.entries(made.dirs).map(([k, d]) => [k, d.replace('/moat-third', '/moat-second')])));
    assert.deepEqual(out.cgroup.created, made.created.map((d) => d.replace('/moat-third', '/moat-second')));
    assert.equal(out.cgroup.deviceBpf?.insns, made.deviceBpf?.insns);
    assert.deepEqual(out.dirs, out.cgroup.created, 'the dirs the helper makes, in order');
  });
}

test('an inherit step reads the parent again: a parent\'s cpus changed since the capture are what the new dir gets', () => {
  const host = setup('v1');
  const { cg, writes } = makeCapturing(host, { id: 'first' });
  const r = captureRecipe(host, cg, writes, 'first')!;
  writeFileSync(join(fake!.root, 'cpuset', 'cpuset.cpus'), '2-3');
  const out = renderRecipe(r, 'second')!;
  replay(out.bytes);
  assert.equal(readFileSync(join(out.cgroup.dirs.cpuset!, 'cpuset.cpus'), 'utf8'), '2-3');
});

test('not captured: a nested path (dirs above the container\'s own), a write outside its dirs, the id in a value', () => {
  const host = setup('hybrid');
  const nested = makeCapturing(host, { id: 'n1', cgroupsPath: 'pod/n1' });
  assert.equal(captureRecipe(host, nested.cg, nested.writes, 'n1'), undefined, 'cgroupsPath: not the default placement');
  const { cg, writes } = makeCapturing(host, { id: 'ok', resources });
  assert.ok(captureRecipe(host, cg, writes, 'ok'));
  assert.equal(captureRecipe(host, cg, [...writes, { path: join(fake!.root, 'pids', 'pids.max'), value: '5' }], 'ok'), undefined, 'a write into our own cgroup');
  assert.equal(captureRecipe(host, cg, [...writes, { path: join(cg.dirs.pids!, 'x'), value: 'moat-ok' }], 'ok'), undefined, 'the id in a value');
  assert.equal(captureRecipe(host, { ...cg, delegated: [cg.dirs.unified!] }, writes, 'ok'), undefined, 'delegated');
});

test('an id that cannot be placed renders nothing (createContainerCgroup then says why)', () => {
  const host = setup('v1');
  const { cg, writes } = makeCapturing(host, { id: 'first' });
  const r = captureRecipe(host, cg, writes, 'first')!;
  assert.equal(renderRecipe(r, 'x/..'), undefined);
});
