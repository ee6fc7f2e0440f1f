// User namespaces in moat-oci: uidMappings/gidMappings honoured, files made inside owned by
// the mapped ids on the host, devices bound from the host (mknod is not allowed there).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../lib/bundle.js';
import { Scratch, parseProbe } from '../lib/oci.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';
const BASE = 300000;

function withUserns(c: any): void {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: BASE, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: BASE, size: 65536 }];
}

describe('user namespaces', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('the container sees its mapping and is root in it', async () => {
    const r = await s.run(withUserns, ['/bin/sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; /probe id']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines[0]!.trim().split(/\s+/).map(Number), [0, BASE, 65536]);
    assert.deepEqual(lines[1]!.trim().split(/\s+/).map(Number), [0, BASE, 65536]);
    const id = JSON.parse(lines[2]!);
    assert.equal(id.uid, 0);
  });

  test('a file made inside is owned on the host by the mapped ids', async () => {
    const b = s.bundle((c) => {
      withUserns(c);
      c.process.user = { uid: 1000, gid: 1000 };
      c.root.readonly = false;
      c.process.args = ['/bin/sh', '-c', 'echo hi > /tmp/made-inside'];
    });
    const r = await s.cli(['run', '-b', b.dir, `uns-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    const st = statSync(join(b.rootfs, 'tmp', 'made-inside'));
    assert.equal(st.uid, BASE + 1000);
    assert.equal(st.gid, BASE + 1000);
  });

  test('devices are the host\'s nodes bound in, and usable', async () => {
    const dev: any[] = await s.probe(['ls', '/dev'], withUserns);
    const n = dev.find((d) => d.name === 'null');
    assert.equal(n.type, 'char');
    assert.equal(n.major, 1);
    assert.equal(n.minor, 3);
    const w = await s.probe(['write', '/dev/null', 'x'], withUserns);
    assert.equal(w.ok, true);
  });

  test('host root is nobody inside: host-owned files cannot be written', async () => {
    const r = await s.probe(['write', '/bin/busybox', 'x'], (c) => {
      withUserns(c);
      c.root.readonly = false;
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_DAC_OVERRIDE');
    });
    assert.equal(r.ok, false);
    assert.equal(r.errno, 'EACCES');
  });

  const rwCgroup = (c: any, extra: (c: any) => void = () => {}) => {
    withUserns(c);
    extra(c);
    const m = c.mounts.find((x: any) => x.destination === '/sys/fs/cgroup');
    m.type = 'cgroup2';
    m.options = m.options.filter((o: string) => o !== 'ro').concat('rw');
  };
  const tryMkdir = ['/bin/sh', '-c', 'mkdir /sys/fs/cgroup/sub && echo made || echo refused'];

  test('a read-write cgroup2 mount delegates the container\'s cgroup to its root: it may make cgroups beneath it', async () => {
    const r = await s.run((c) => rwCgroup(c), tryMkdir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'made');
    assert.doesNotMatch(r.stderr, /not delegated/);
  });

  test('not delegated when an id map reaches host id 0: said on stderr, and the mount is read-only', async () => {
    const r = await s.run((c) => rwCgroup(c, (x) => x.linux.gidMappings.push({ containerID: 70000, hostID: 0, size: 1 })), tryMkdir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'refused');
    assert.match(r.stderr, /mounts\[\d+\]: read-write, but the container's cgroup is not delegated/);
  });
});

export { parseProbe };

describe('id-mapped mounts', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  const idmapRoot = (c: any) => {
    withUserns(c);
    c.root.readonly = false;
    c.annotations = { 'run.moat.idmap-rootfs': 'true' };
  };

  test('an id-mapped rootfs shows host-root files as root inside; nothing is chowned', async () => {
    const b = s.bundle((c) => {
      idmapRoot(c);
      c.process.args = ['/bin/sh', '-c', '/probe stat /bin/busybox; echo new > /root/made-inside; /probe stat /root/made-inside'];
    });
    const before = statSync(join(b.rootfs, 'bin', 'busybox'));
    const r = await s.cli(['run', '-b', b.dir, `idmap-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    const [bb, made] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(bb.uid, 0, 'host root owns busybox on disk; the container sees root');
    assert.equal(made.uid, 0);
    const after = statSync(join(b.rootfs, 'bin', 'busybox'));
    assert.equal(after.uid, before.uid, 'the file on disk is unchanged');
    assert.equal(statSync(join(b.rootfs, 'root', 'made-inside')).uid, 0, 'a file made by container root is stored as host root: no shifted ids on disk');
  });

  test('an `idmap` bind mount maps its files to the container\'s ids', async () => {
    const b = s.bundle((c) => {
      withUserns(c);
      c.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'idmap'] });
      c.process.args = ['/probe', 'stat', '/data/owned-by-host-1000'];
    });
    const { mkdirSync, writeFileSync, chownSync } = await import('node:fs');
    mkdirSync(join(b.dir, 'data'));
    // the mount point: container root (host 300000) may not create it in a host-root-owned rootfs
    mkdirSync(join(b.rootfs, 'data'));
    writeFileSync(join(b.dir, 'data', 'owned-by-host-1000'), 'x');
    chownSync(join(b.dir, 'data', 'owned-by-host-1000'), 1000, 1000);
    const r = await s.cli(['run', '-b', b.dir, `idmapmnt-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseProbe(r.stdout).uid, 1000);
  });
});
