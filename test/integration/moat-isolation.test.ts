// The seed-000 flow, file-system part: two sandboxes vs1 and vs2 from the busybox template.
// vs1 cannot see vs2's files or processes, cannot signal them, and `kill -9 -1` in vs1
// leaves vs2 and the host running.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, isStaticElf } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch } from '../lib/moat.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/bin/busybox') || !isStaticElf('/bin/busybox') ? 'needs busybox-static' : false;

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('moat: two busybox sandboxes are isolated (seed 000)', { skip }, () => {
  let s: MoatScratch;
  before(async () => {
    s = new MoatScratch();
    for (const vs of ['vs1', 'vs2']) {
      await s.ok(['create', vs, '--template', 'busybox']);
      await s.ok(['start', vs]);
    }
  });
  after(async () => s.cleanup());

  const pidOf = async (name: string) => (JSON.parse(await s.ok(['inspect', name, '--json'])) as { pid: number }).pid;

  test('the busybox root: only busybox, read-only, private /etc', async () => {
    const out = await s.ok(['exec', 'vs1', '--', 'sh', '-c', 'ls /bin | wc -l; cat /etc/hostname; touch /bin/x 2>&1; echo; id -u']);
    const [applets, hostname, touchErr, , uid] = out.split('\n');
    assert.ok(Number(applets) > 100, 'busybox applets present');
    assert.equal(hostname, 'vs1');
    assert.match(touchErr!, /Read-only file system/);
    assert.equal(uid, '0');
  });

  test("vs1 cannot see vs2's files", async () => {
    await s.ok(['exec', 'vs2', '--', 'sh', '-c', 'echo vs2-secret > /root/secret-vs2; echo vs2-secret > /tmp/secret-vs2']);
    assert.equal(await s.ok(['exec', 'vs2', '--', 'cat', '/root/secret-vs2']), 'vs2-secret\n');
    const found = await s.ok(['exec', 'vs1', '--', 'sh', '-c', 'find / -path /proc -prune -o -path /sys -prune -o -name "secret-vs2" -print; grep -rl vs2-secret /root /tmp /etc /var /home 2>/dev/null; true']);
    assert.equal(found, '', 'no trace of vs2 in vs1');
    // the host paths of vs2's root do not exist in vs1 either
    const vs2root = join(s.data, 'sandboxes', 'vs2', 'rootfs');
    assert.equal((await s.moat(['exec', 'vs1', '--', 'test', '-e', vs2root])).code, 1);
    assert.equal((await s.moat(['exec', 'vs1', '--', 'test', '-e', s.data])).code, 1);
  });

  test("vs1 cannot see or signal vs2's processes", async () => {
    const vs2pid = await pidOf('vs2');
    const ps = await s.ok(['exec', 'vs1', '--', 'sh', '-c', 'ls /proc | grep -E "^[0-9]+$"']);
    assert.ok(!ps.split('\n').includes(String(vs2pid)), "vs2's host pid is not visible in vs1");
    assert.ok(ps.split('\n').filter(Boolean).length < 10, `vs1 sees only its own few processes: ${ps}`);
    const k = await s.moat(['exec', 'vs1', '--', 'kill', '-9', String(vs2pid)]);
    assert.notEqual(k.code, 0, 'signalling a pid of vs2 from vs1 fails');
    assert.ok(alive(vs2pid));
  });

  test('kill -9 -1 in vs1 leaves vs2 and the host running', async () => {
    const sentinel = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const vs2pid = await pidOf('vs2');
      await s.moat(['exec', 'vs1', '--', 'kill', '-9', '-1']);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(alive(sentinel.pid!), 'a host process survives');
      assert.ok(alive(process.pid));
      assert.ok(alive(vs2pid), 'vs2 survives');
      assert.equal(await s.ok(['exec', 'vs2', '--', 'cat', '/root/secret-vs2']), 'vs2-secret\n');
      const list = JSON.parse(await s.ok(['list', '--json'])) as { name: string; status: string }[];
      assert.equal(list.find((x) => x.name === 'vs2')!.status, 'running');
    } finally {
      sentinel.kill('SIGKILL');
    }
  });

  test('delete --force removes both and leaves nothing', async () => {
    for (const vs of ['vs1', 'vs2']) {
      await s.ok(['delete', '--force', vs]);
      assertSandboxGone(s, vs);
    }
  });
});
