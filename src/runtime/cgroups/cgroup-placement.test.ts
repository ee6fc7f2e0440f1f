import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSystemdCgroupsPath, placeContainerCgroup } from './cgroup-placement.js';
import { parentChain } from './enable-v2-controllers.js';
import type { CgroupHost } from './cgroup-types.js';

const host: CgroupHost = { mode: 'hybrid', root: '/cg', v1: { memory: '/cg/memory', cpu: '/cg/cpu,cpuacct', cpuacct: '/cg/cpu,cpuacct' }, unified: '/cg/unified', unifiedControllers: [], self: { memory: '/work/x', cpu: '/', cpuacct: '/', '': '/' } };

test('default and relative paths go beneath our own cgroup, per controller', () => {
  const p = placeContainerCgroup(host, 'c1');
  assert.deepEqual(p.dirs, { memory: '/cg/memory/work/x/moat-c1', cpu: '/cg/cpu,cpuacct/moat-c1', cpuacct: '/cg/cpu,cpuacct/moat-c1', unified: '/cg/unified/moat-c1' });
  assert.equal(p.bases.memory, '/cg/memory/work/x');
  assert.equal(placeContainerCgroup(host, 'c1', 'pod/c1').dirs.memory, '/cg/memory/work/x/pod/c1');
});

test('absolute paths go under the mount; climbing paths are refused', () => {
  const p = placeContainerCgroup(host, 'c1', '/machine/c1');
  assert.equal(p.dirs.memory, '/cg/memory/machine/c1');
  assert.equal(p.bases.memory, '/cg/memory');
  for (const bad of ['../x', 'a/../../b', '/', 'a//b', './a']) {
    assert.equal(placeContainerCgroup(host, 'c1', bad).issues[0]?.path, 'linux.cgroupsPath', bad);
  }
  assert.equal(placeContainerCgroup(host, '..').issues.length, 0, '`moat-..` is a plain name');
});

test('parent chain and systemd path syntax', () => {
  assert.deepEqual(parentChain('/u/me', '/u/me/a/b/leaf'), ['/u/me', '/u/me/a', '/u/me/a/b']);
  assert.deepEqual(parentChain('/u/me', '/u/me/leaf'), ['/u/me']);
  assert.deepEqual(parseSystemdCgroupsPath('machine.slice:moat:c1'), { slice: 'machine.slice', prefix: 'moat', name: 'c1' });
  assert.deepEqual(parseSystemdCgroupsPath(':moat:c1')?.slice, 'system.slice');
  assert.equal(parseSystemdCgroupsPath('/a/b'), undefined);
});
