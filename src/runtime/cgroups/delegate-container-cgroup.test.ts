// Delegation of a container's cgroup to its root: who gets it, which dirs and files, and
// removal of what the container made beneath them (on a temp dir standing in for cgroupfs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELEGATED_MAX_DEPTH, DELEGATED_MAX_DESCENDANTS, delegateContainerCgroup, execLeafDir, removeDelegatedDescendants, treePids } from './delegate-container-cgroup.js';
import { delegationOwner } from '../create.js';
import type { OciSpec } from '../../spec/oci-types.js';

const isRoot = process.getuid?.() === 0;

test('delegationOwner: only with its own user and cgroup namespaces and a read-write cgroup mount', () => {
  const base = (edit: (s: OciSpec) => void = () => {}): OciSpec => {
    const s: OciSpec = {
      ociVersion: '1.2.0',
      mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup', options: ['rw'] }],
      linux: {
        namespaces: [{ type: 'user' }, { type: 'cgroup' }, { type: 'mount' }],
        uidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 300000, size: 65536 }],
      },
    };
    edit(s);
    return s;
  };
  assert.deepEqual(delegationOwner(base()), { uid: 200000, gid: 300000 });
  assert.equal(delegationOwner(base((s) => (s.mounts![0]!.options = ['ro']))), undefined, 'read-only mount');
  assert.equal(delegationOwner(base((s) => (s.mounts = []))), undefined, 'no cgroup mount');
  assert.equal(delegationOwner(base((s) => (s.linux!.namespaces = [{ type: 'cgroup' }]))), undefined, 'no user namespace: root inside is host root');
  assert.equal(delegationOwner(base((s) => (s.linux!.namespaces = [{ type: 'user' }, { type: 'cgroup', path: '/proc/1/ns/cgroup' }]))), undefined, 'a joined cgroup namespace');
  assert.equal(delegationOwner(base((s) => (s.linux!.uidMappings = [{ containerID: 1, hostID: 5, size: 10 }]))), undefined, 'root unmapped');
  assert.equal(delegationOwner(base((s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }]))), undefined, 'root is the host root: its limit files would be writable');
  assert.equal(delegationOwner(base((s) => s.linux!.gidMappings!.push({ containerID: 70000, hostID: 0, size: 1 }))), undefined, 'any id map reaching host id 0');
  assert.equal(delegationOwner(base((s) => (s.mounts![0]!.options = ['rro']))), undefined, 'recursively read-only');
  assert.deepEqual(delegationOwner(base((s) => (s.mounts![0]!.options = ['ro', 'rw']))), { uid: 200000, gid: 300000 }, 'the last of ro/rw wins');
});

test('delegateContainerCgroup caps and chowns the cgroup2 dir it created and its delegation files, nothing else', { skip: !isRoot && 'chown needs root' }, () => {
  const fs = mkdtempSync(join(tmpdir(), 'moat-deleg-'));
  try {
    const dir = (h: string) => {
      const d = join(fs, h, 'c1');
      mkdirSync(d, { recursive: true });
      for (const f of ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.max.depth', 'cgroup.max.descendants', 'tasks', 'memory.max', 'memory.limit_in_bytes']) writeFileSync(join(d, f), '');
      return d;
    };
    const cg = { mode: 'hybrid' as const, dirs: { memory: dir('memory'), 'name=systemd': dir('systemd'), unified: dir('unified'), pids: join(fs, 'pids-shared') }, created: [] as string[] };
    cg.created = [cg.dirs.memory, cg.dirs['name=systemd'], cg.dirs.unified];
    const got = delegateContainerCgroup(cg, 4321, 8765);
    assert.deepEqual(got, [cg.dirs.unified], 'cgroup v1 (name=systemd included) is never delegated');
    const owner = (p: string) => `${statSync(p).uid}:${statSync(p).gid}`;
    for (const p of [cg.dirs.unified, join(cg.dirs.unified, 'cgroup.procs'), join(cg.dirs.unified, 'cgroup.subtree_control')]) assert.equal(owner(p), '4321:8765', p);
    // the caps, a limit's file, and every v1 dir stay the host's
    for (const p of [join(cg.dirs.unified, 'memory.max'), join(cg.dirs.unified, 'cgroup.max.depth'), cg.dirs.memory, cg.dirs['name=systemd'], join(cg.dirs['name=systemd'], 'tasks')]) assert.equal(owner(p), '0:0', p);
    assert.equal(readFileSync(join(cg.dirs.unified, 'cgroup.max.depth'), 'utf8'), String(DELEGATED_MAX_DEPTH));
    assert.equal(readFileSync(join(cg.dirs.unified, 'cgroup.max.descendants'), 'utf8'), String(DELEGATED_MAX_DESCENDANTS));
    // a dir moat did not create is never delegated
    assert.deepEqual(delegateContainerCgroup({ ...cg, created: [] }, 1, 1), []);
    // what the container made beneath is listed and removed deepest first
    mkdirSync(join(cg.dirs.unified, 'system.slice', 'a.service'), { recursive: true });
    mkdirSync(join(cg.dirs.unified, 'init.scope'));
    writeFileSync(join(cg.dirs.unified, 'cgroup.procs'), '1\n');
    writeFileSync(join(cg.dirs.unified, 'system.slice', 'a.service', 'cgroup.procs'), '7\n8\n');
    assert.deepEqual(treePids(cg.dirs.unified).sort(), [1, 7, 8]);
    rmSync(join(cg.dirs.unified, 'system.slice', 'a.service', 'cgroup.procs'));
    removeDelegatedDescendants(cg.dirs.unified);
    assert.ok(!existsSync(join(cg.dirs.unified, 'system.slice')) && !existsSync(join(cg.dirs.unified, 'init.scope')));
    assert.ok(existsSync(cg.dirs.unified), 'the delegated dir itself is left for the removal of the dirs moat created');
  } finally {
    rmSync(fs, { recursive: true, force: true });
  }
});

test('removeDelegatedDescendants: a tree whose host path is longer than PATH_MAX is removed (walked by dir fds)', () => {
  const top = mkdtempSync(join(tmpdir(), 'moat-deep-'));
  try {
    let fd = openSync(top, 'r');
    const fds = [fd];
    for (let i = 0; i < DELEGATED_MAX_DEPTH; i++) {
      const name = String(i).padEnd(255, 'x');
      mkdirSync(`/proc/self/fd/${fd}/${name}`);
      fd = openSync(`/proc/self/fd/${fd}/${name}`, 'r');
      fds.push(fd);
    }
    for (const f of fds) closeSync(f);
    assert.ok(top.length + DELEGATED_MAX_DEPTH * 256 > 4096, 'the deepest dir has no usable absolute path');
    removeDelegatedDescendants(top);
    assert.deepEqual(readdirSync(top), []);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test('execLeafDir: the delegated dir while it enables no controller, else a new leaf of its own each time', () => {
  const d = mkdtempSync(join(tmpdir(), 'moat-leaf-'));
  try {
    writeFileSync(join(d, 'cgroup.subtree_control'), '\n');
    assert.equal(execLeafDir(d), d);
    writeFileSync(join(d, 'cgroup.subtree_control'), 'memory pids\n');
    const a = execLeafDir(d);
    assert.match(a, /\/moat-exec-[0-9a-f]{12}$/);
    assert.ok(statSync(a).isDirectory());
    // a leaf a container prepared is never used; empty leaves of earlier execs go
    writeFileSync(join(a, 'busy'), ''); // stands for a leaf still holding a process
    const b = execLeafDir(d);
    assert.notEqual(b, a);
    assert.ok(existsSync(a), 'a leaf in use stays');
    rmSync(join(a, 'busy'));
    const c = execLeafDir(d);
    assert.ok(!existsSync(a) && !existsSync(b), 'empty leaves of earlier execs are removed');
    assert.ok(existsSync(c));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
