// The exit status of a background sandbox: `moat start` leaves a small waiter (the helper's
// C, not a Node process) outside the sandbox's cgroups that reaps the sandbox's first process
// and records its status, which `list` and `inspect` show until the sandbox is stopped or
// started again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, isStaticElf } from '../lib/bundle.js';
import { MoatScratch, sandboxCgroupDirs, waitFor } from '../lib/moat.js';

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
