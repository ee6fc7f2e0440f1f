// `moat clone`: the copy has the source's settings and private state, owned by its own id range.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, isStaticElf } from '../lib/bundle.js';
import { MoatScratch } from '../lib/moat.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/bin/busybox') || !isStaticElf('/bin/busybox') ? 'needs busybox-static' : false;

describe('moat clone', { skip }, () => {
  let s: MoatScratch;
  before(async () => {
    s = new MoatScratch();
    await s.ok(['create', 'orig', '--template', 'busybox', '--pids', '77']);
    await s.ok(['start', 'orig']);
    await s.ok(['exec', 'orig', '--', 'sh', '-c', 'echo kept > /etc/motd; mkdir -p /home/u && chmod 777 /home/u']);
    // a file of an ordinary user inside (no CAP_CHOWN by default: made as that user)
    await s.ok(['exec', '-u', '1000:1000', 'orig', '--', 'sh', '-c', 'echo x > /home/u/f']);
  });
  after(async () => s.cleanup());

  test('a running sandbox is not cloned', async () => {
    const r = await s.moat(['clone', 'orig', 'copy']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /stop it before cloning/);
    assert.equal(existsSync(join(s.data, 'sandboxes', 'copy')), false, 'nothing half-made');
  });

  test('the clone has the settings and the private files, under its own ids', async () => {
    await s.ok(['stop', 'orig']);
    await s.ok(['clone', 'orig', 'copy']);
    await s.ok(['start', 'copy']);
    assert.equal((await s.ok(['exec', 'copy', '--', 'cat', '/etc/motd'])).trim(), 'kept');
    assert.equal((await s.ok(['exec', 'copy', '--', 'cat', '/sys/fs/cgroup/pids/pids.max'])).trim(), '77');
    assert.equal((await s.ok(['exec', 'copy', '--', 'stat', '-c', '%u', '/home/u/f'])).trim(), '1000', 'inside, ownership is kept');
    const uidMap = async (n: string) => Number((await s.ok(['exec', n, '--', 'cat', '/proc/self/uid_map'])).trim().split(/\s+/)[1]);
    await s.ok(['start', 'orig']);
    const [a, b] = [await uidMap('orig'), await uidMap('copy')];
    assert.notEqual(a, b, 'the clone has a range of its own');
    assert.equal(statSync(join(s.data, 'sandboxes/copy/rootfs/home/u/f')).uid, b + 1000, 'on the host, shifted into the clone\'s range');
    assert.equal(statSync(join(s.data, 'sandboxes/orig/rootfs/home/u/f')).uid, a + 1000, 'the original is untouched');
  });

  test('a bad or taken name is refused', async () => {
    assert.match((await s.moat(['clone', 'orig', 'bad/name'])).stderr, /invalid sandbox name/);
    assert.match((await s.moat(['clone', 'orig', 'copy'])).stderr, /already exists|running/);
  });
});
