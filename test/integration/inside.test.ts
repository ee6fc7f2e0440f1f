// What a process sees from inside a default container: asserted by the probe, in the container.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../lib/bundle.js';
import { Scratch, assertNoLeftovers } from '../lib/oci.js';
import { runCli, uniqueId } from '../lib/bundle.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { capabilityMask } from '../../src/spec/capabilities.js';
import { probeCgroupHost } from '../../src/runtime/cgroups/index.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';

describe('inside a default container', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('the process is pid 1 in its own pid namespace', async () => {
    const p = await s.probe(['pid1']);
    assert.equal(p.isPid1, true);
    assert.deepEqual(p.cmdline, ['/probe', 'pid1']);
  });

  test('uid, gid and supplementary groups come from process.user', async () => {
    const p = await s.probe(['id'], (c) => (c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 44] }));
    assert.equal(p.uid, 1000);
    assert.equal(p.euid, 1000);
    assert.equal(p.gid, 1000);
    assert.deepEqual([...p.groups].sort((a: number, b: number) => a - b), [5, 44]);
  });

  test('capabilities are exactly the configured sets, no_new_privs and seccomp as asked', async () => {
    const p = await s.probe(['status']);
    const want = capabilityMask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']).toString(16).padStart(16, '0');
    assert.equal(p.CapEff, want);
    assert.equal(p.CapPrm, want);
    assert.equal(p.CapBnd, want);
    assert.equal(p.CapInh, '0000000000000000');
    assert.equal(p.NoNewPrivs, 1);
    const q = await s.probe(['status'], (c) => (c.process.noNewPrivileges = false));
    assert.equal(q.NoNewPrivs, 0);
  });

  test('a non-root user keeps permitted and ambient capabilities as configured', async () => {
    const p = await s.probe(['status'], (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      const caps = ['CAP_NET_BIND_SERVICE'];
      c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
    });
    const want = capabilityMask(['CAP_NET_BIND_SERVICE']).toString(16).padStart(16, '0');
    assert.equal(p.CapAmb, want);
    assert.equal(p.CapEff, want);
    assert.equal(p.CapBnd, want);
  });

  test('hostname and domainname are the container\'s own', async () => {
    const p = await s.probe(['hostname'], (c) => {
      c.hostname = 'box1';
      c.domainname = 'example.test';
    });
    assert.deepEqual(p, { hostname: 'box1', domainname: 'example.test' });
  });

  test('mounts carry the configured flags; the root is read-only', async () => {
    const m: any[] = await s.probe(['mounts']);
    const at = (p: string) => m.filter((x) => x.mountPoint === p).at(-1);
    assert.ok(at('/').options.includes('ro'), 'root read-only');
    assert.equal(at('/proc').fsType, 'proc');
    assert.ok(at('/sys').options.includes('ro'));
    for (const o of ['nosuid', 'nodev', 'noexec']) assert.ok(at('/dev/shm').options.includes(o), `/dev/shm ${o}`);
    assert.equal(at('/dev/pts').fsType, 'devpts');
    assert.ok(at('/proc/sys').options.includes('ro'), '/proc/sys read-only');
    if (probeCgroupHost().mode === 'unified') assert.equal(at('/sys/fs/cgroup').fsType, 'cgroup2', 'own cgroup2 dir visible');
    else assert.ok(at('/sys/fs/cgroup/memory'), 'own memory cgroup visible');
    assert.ok(m.every((x) => x.propagation !== 'shared'), 'nothing shared with the host');
  });

  test('masked paths are empty and read-only paths refuse writes', async () => {
    const keys = await s.probe(['read', '/proc/keys']);
    assert.equal(keys.ok, true);
    assert.equal(keys.content, '');
    const fw = await s.probe(['ls', '/sys/firmware']);
    assert.deepEqual(fw, []);
    const w = await s.probe(['write', '/proc/sys/kernel/hostname', 'evil'], (c) => (c.process.capabilities.bounding.push('CAP_SYS_ADMIN'), c.process.capabilities.effective.push('CAP_SYS_ADMIN'), c.process.capabilities.permitted.push('CAP_SYS_ADMIN')));
    assert.equal(w.ok, false);
    assert.equal(w.errno, 'EROFS');
  });

  test('/dev holds only the default devices, a private devpts and the standard links', async () => {
    const dev: any[] = await s.probe(['ls', '/dev']);
    const byName = new Map(dev.map((d) => [d.name, d]));
    for (const [name, maj, min] of [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]] as const) {
      const d = byName.get(name);
      assert.equal(d?.type, 'char', name);
      assert.equal(d.major, maj);
      assert.equal(d.minor, min);
    }
    assert.equal(byName.get('ptmx')?.target, 'pts/ptmx');
    assert.equal(byName.get('fd')?.target, '/proc/self/fd');
    assert.equal(byName.get('stdin')?.target, '/proc/self/fd/0');
    const names = dev.map((d) => d.name).sort();
    assert.deepEqual(names, ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
    const pts: any[] = await s.probe(['ls', '/dev/pts']);
    assert.deepEqual(pts.map((d) => d.name), ['ptmx'], 'a fresh devpts: no host ptys');
  });

  test('a device outside the allow-list cannot be made or opened', async () => {
    const r = await s.probe(['mknod', '/dev/sda', 'b', '8', '0'], (c) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
    });
    assert.equal(r.ok, false);
    assert.equal(r.errno, 'EPERM');
    // allowed to make the node but not to use it: the open is refused
    const made = await s.run((c) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
      c.linux.resources.devices.push({ allow: true, type: 'b', major: 8, minor: 0, access: 'm' });
    }, ['/bin/sh', '-c', '/probe mknod /dev/sda b 8 0 && /probe open /dev/sda r']);
    assert.equal(made.code, 0, made.stderr);
    const [mk, op] = made.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(mk.ok, true);
    assert.equal(op.ok, false);
    assert.equal(op.errno, 'EPERM');
    const ok = await s.probe(['open', '/dev/null', 'rw']);
    assert.equal(ok.ok, true);
  });

  test('rlimits, cwd, env and umask are as configured', async () => {
    const rl = await s.probe(['rlimits'], (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 456 }, { type: 'RLIMIT_NPROC', soft: 77, hard: 77 }]));
    assert.deepEqual(rl.RLIMIT_NOFILE, { soft: 123, hard: 456 });
    assert.deepEqual(rl.RLIMIT_NPROC, { soft: 77, hard: 77 });
    const cwd = await s.probe(['cwd'], (c) => (c.process.cwd = '/tmp'));
    assert.equal(cwd.cwd, '/tmp');
    const env: string[] = await s.probe(['env'], (c) => c.process.env.push('GREETING=hello world'));
    assert.deepEqual(env, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello world']);
    const um = await s.probe(['umask'], (c) => (c.process.user.umask = 0o077));
    assert.equal(um.umask, '0077');
  });

  test('only fds 0, 1 and 2 reach the container', async () => {
    const fds: any[] = await s.probe(['fds']);
    assert.deepEqual(fds.map((f) => f.fd).sort(), [0, 1, 2, 3].slice(0, fds.length));
    // the probe's own directory fd for /proc/self/fd may appear as 3; nothing else may
    assert.ok(fds.every((f) => f.fd < 3 || String(f.target).includes('/proc')), JSON.stringify(fds));
  });

  test('the cgroup namespace is rooted at the container\'s own cgroups; a foreground helper is not in them', async () => {
    // the helper moves the container process into its cgroups after clone, and the process
    // makes its cgroup namespace only then: made before, every path here would be `/moat-ID`
    const p = await s.probe<{ path: string }[]>(['cgroup']);
    assert.ok(p.length > 0);
    for (const e of p) assert.equal(e.path, '/', JSON.stringify(p));
    // a foreground `run`: the container's cgroup dirs hold its process and nothing of ours
    const host = probeCgroupHost();
    const b = s.bundle((c) => (c.process.args = ['/probe', 'sleep', '60']));
    const id = uniqueId('fg');
    const run = runCli(['--root', s.state.root, 'run', '-b', b.dir, id]);
    try {
      let pid = 0;
      for (let i = 0; i < 500 && !pid; i++) {
        const st = await s.cli(['state', id]);
        if (st.code === 0 && JSON.parse(st.stdout).status === 'running') pid = JSON.parse(st.stdout).pid;
        else await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(pid > 0, 'the container runs');
      const dirs = [...Object.entries(host.v1).map(([ctl, m]) => join(m, host.self[ctl] ?? '/', `moat-${id}`)), ...(host.unified ? [join(host.unified, host.self[''] ?? '/', `moat-${id}`)] : [])].filter(existsSync);
      assert.ok(dirs.length > 0, 'the container has cgroup dirs');
      for (const d of dirs) assert.deepEqual(readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number), [pid], d);
    } finally {
      await s.cli(['kill', id, 'KILL']);
      await run;
    }
    assertNoLeftovers(s.state.root, id);
  });

  test('a run leaves no state and no cgroup behind', async () => {
    const r = await s.run(() => {}, ['/probe', 'id']);
    assert.equal(r.code, 0, r.stderr);
    assertNoLeftovers(s.state.root, r.id);
  });
});
