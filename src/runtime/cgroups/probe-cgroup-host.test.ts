import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCgroupMounts, parseProcSelfCgroup, probeCgroupHost } from './probe-cgroup-host.js';
import { cgroupFeatures } from './cgroup-features.js';
import { makeFakeCgroupfs } from './fake-cgroupfs.js';

const HYBRID_MOUNTINFO = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_SELF = `9:name=systemd:/
4:memory:/process_api/8174
2:cpu,cpuacct:/
5:devices:/
0::/
`;

test('parses cgroup mounts and skips other file systems and mount options', () => {
  const m = parseCgroupMounts(HYBRID_MOUNTINFO);
  assert.equal(m.length, 5);
  assert.deepEqual(m[0], { dir: '/sys/fs/cgroup/cpu,cpuacct', root: '/', fstype: 'cgroup', controllers: ['cpu', 'cpuacct'] });
  assert.deepEqual(m[3]!.controllers, ['name=systemd']);
  assert.equal(parseCgroupMounts('1 2 0:3 / /a\\040b rw - cgroup2 cgroup2 rw')[0]!.dir, '/a b');
});

test('parses /proc/self/cgroup, splitting comounted controllers', () => {
  assert.deepEqual(parseProcSelfCgroup(HYBRID_SELF), { 'name=systemd': '/', memory: '/process_api/8174', cpu: '/', cpuacct: '/', devices: '/', '': '/' });
});

test('a hybrid host: v1 controllers plus a cgroup2 mount', () => {
  const h = probeCgroupHost({ mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_SELF });
  assert.equal(h.mode, 'hybrid');
  assert.equal(h.v1.cpu, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(h.v1.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(h.self.memory, '/process_api/8174');
  assert.equal(h.unified, '/sys/fs/cgroup/unified');
  assert.equal(h.self[''], '/');
});

test('v1-only and unified hosts; a mount root other than / makes self relative to it', () => {
  const v1 = probeCgroupHost({ mountinfo: HYBRID_MOUNTINFO.split('\n').filter((l) => !l.includes('cgroup2')).join('\n'), procSelfCgroup: HYBRID_SELF });
  assert.equal(v1.mode, 'v1');
  assert.equal(v1.unified, undefined);
  const u = probeCgroupHost({ mountinfo: '30 22 0:27 /ns /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', procSelfCgroup: '0::/ns/user.slice/me\n', root: '/sys/fs/cgroup' });
  assert.equal(u.mode, 'unified');
  assert.equal(u.self[''], '/user.slice/me');
  assert.deepEqual(u.v1, {});
  assert.throws(() => probeCgroupHost({ mountinfo: '', procSelfCgroup: '' }), { code: 'ERR_CGROUP' });
});

test('fake hosts probe as their mode, features describe them', () => {
  for (const mode of ['v1', 'hybrid', 'unified'] as const) {
    const fake = makeFakeCgroupfs(mode);
    try {
      const h = probeCgroupHost({ mountinfo: fake.mountinfo, procSelfCgroup: fake.procSelfCgroup, root: fake.root });
      assert.equal(h.mode, mode);
      const f = cgroupFeatures(h);
      assert.equal(f.devices, { v1: 'v1', hybrid: 'v1+ebpf', unified: 'ebpf' }[mode]);
      assert.equal(f.v1, mode !== 'unified');
      assert.equal(f.v2, mode !== 'v1');
      assert.ok(f.controllers.v1.every((c) => !c.startsWith('name=')), 'named hierarchies are not controllers');
      assert.equal(f.freezer, mode === 'unified' ? 'v2' : 'v1');
      if (mode === 'unified') assert.deepEqual(h.unifiedControllers, ['cpu', 'io', 'memory', 'pids']);
    } finally {
      fake.cleanup();
    }
  }
});
