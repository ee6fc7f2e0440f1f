// The exit status of a background sandbox: `moat start` leaves a small waiter (the helper's
// C, not a Node process) outside the sandbox's cgroups that reaps the sandbox's first process
// and records its status, which `list` and `inspect` show until the sandbox is stopped or
// started again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, isStaticElf } from '../lib/bundle.js';
import { MoatScratch, sandboxCgroupDirs, waitFor } from '../lib/moat.js';
import { Scratch, assertNoLeftovers, uniqueId } from '../lib/oci.js';
import { createContainer } from '../../src/runtime/create.js';
import { containerPids, deleteContainer, startContainer } from '../../src/runtime/lifecycle.js';
import { loadBundle } from '../../src/runtime/load-spec.js';
import { StateStore } from '../../src/runtime/state.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/bin/busybox') || !isStaticElf('/bin/busybox') ? 'needs busybox-static' : false;

describe('moat: exit status of background sandboxes', { skip }, () => {
  let s: MoatScratch;
  before(() => {
    s = new MoatScratch();
  });
  after(async () => s.cleanup());

  const entry = async (name: string) => (JSON.parse(await s.ok(['list', '--json'])) as { name: string; status: string; exitCode?: number }[]).find((x) => x.name === name)!;

  test('a process that exits: list and inspect show its status', async () => {
    await s.ok(['create', 'ex7', '--template', 'busybox', '--', 'sh', '-c', 'until [ -e /tmp/go ]; do sleep 0.1; done; exit 7']);
    await s.ok(['start', 'ex7']);
    const running = await entry('ex7');
    assert.equal(running.status, 'running');
    assert.equal(running.exitCode, undefined);
    // the sandbox's cgroup holds only its own process: the waiter stays outside
    const pid = (JSON.parse(await s.ok(['inspect', 'ex7', '--json'])) as { pid: number }).pid;
    const pidsDir = sandboxCgroupDirs('ex7', s.data).find((d) => d.includes('/pids/'));
    const ns = (p: string) => {
      try {
        return readlinkSync(`/proc/${p}/ns/pid`);
      } catch {
        return 'gone';
      }
    };
    if (pidsDir) for (const p of readFileSync(join(pidsDir, 'cgroup.procs'), 'utf8').trim().split('\n')) if (ns(p) !== 'gone') assert.equal(ns(p), ns(String(pid)), `process ${p} in the sandbox's cgroup is the sandbox's`);
    await s.ok(['exec', 'ex7', '--', 'touch', '/tmp/go']);
    await waitFor(async () => (await entry('ex7')).exitCode === 7, 10_000, 'exit status 7');
    const r = JSON.parse(await s.ok(['inspect', 'ex7', '--json'])) as { status: string; exitCode: number };
    assert.equal(r.status, 'exited');
    assert.equal(r.exitCode, 7);
    assert.match(await s.ok(['inspect', 'ex7']), /status: +exited \(exit status 7\)/);
    assert.match(await s.ok(['list']), /ex7 +exited \(7\)/);
  });

  test('a process killed by a signal: 128+N; start clears it', async () => {
    await s.ok(['create', 'killed', '--template', 'busybox', '--', 'sleep', '1000']);
    await s.ok(['start', 'killed']);
    const pid = (JSON.parse(await s.ok(['inspect', 'killed', '--json'])) as { pid: number }).pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await entry('killed')).exitCode === 137, 10_000, 'exit status 137');
    await s.ok(['start', 'killed']);
    const again = await entry('killed');
    assert.equal(again.status, 'running');
    assert.equal(again.exitCode, undefined);
    await s.ok(['stop', '--time', '0', 'killed']);
    assert.equal((await entry('killed')).status, 'stopped');
  });
});

// A sandbox's first process is its pid namespace's init: what it leaves behind dies with it
// and is reaped inside.  Without a pid namespace an orphan the first process leaves goes to
// the waiter (the nearest subreaper): the status recorded must still be the first process's,
// written when it ends, not that of whatever the waiter reaps last.
describe('exit waiter: the first process decides the status, not an orphan it leaves', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('a first process that exits 7 leaving a child that exits 3 later: 7 is recorded, at once', async () => {
    const b = s.bundle((c) => {
      c.process.args = ['/bin/sh', '-c', '(until [ -e /go ]; do sleep 0.05; done; exit 3) & exit 7'];
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    });
    const id = uniqueId('orphan');
    const root = s.state.root;
    const nul = openSync('/dev/null', 'r+');
    let pid: number;
    try {
      ({ record: { pid } } = await createContainer({ root, id, loaded: loadBundle(b.dir), mode: 'detach', recordExit: true, stdio: [nul, nul, nul] }));
    } finally {
      closeSync(nul);
    }
    await startContainer(root, id);
    await waitFor(() => !existsSync(`/proc/${pid}`), 10_000, 'the first process reaped');
    // the orphan (the subshell, with maybe a `sleep` of its own): its parent is outside
    const left = containerPids(root, id);
    const ppid = (p: number) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      } catch {
        return 0; // a `sleep` already gone
      }
    };
    const outer = left.map((p) => [p, ppid(p)] as const).filter(([, pp]) => pp && !left.includes(pp));
    assert.equal(outer.length, 1, `one orphan: ${left.join(' ')}`);
    const [orphan, waiter] = outer[0]!;
    assert.notEqual(orphan, pid);
    assert.ok(waiter > 1 && waiter !== pid && waiter !== process.pid, `the orphan's parent ${waiter} is the waiter, outside the container`);
    const store = new StateStore(root);
    // written when the first process is reaped, while the orphan still runs
    await waitFor(() => store.exitStatus(id) !== undefined, 10_000, 'the exit status recorded');
    assert.equal(store.exitStatus(id), 7);
    writeFileSync(join(b.rootfs, 'go'), '');
    await waitFor(() => !existsSync(`/proc/${waiter}`), 10_000, 'the waiter done (the orphan reaped)');
    assert.equal(readFileSync(store.exitFile(id), 'utf8').trim(), '7', 'the orphan\'s status 3 is written nowhere');
    await deleteContainer(root, id, true);
    assertNoLeftovers(root, id);
  });
});
