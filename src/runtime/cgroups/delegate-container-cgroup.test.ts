// Delegation of a container's cgroup to its root: who gets it, which dirs and files, and
// removal of what the container made beneath them (on a temp dir standing in for cgroupfs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delegateContainerCgroup, execLeafDir, removeDelegatedDescendants } from './delegate-container-cgroup.js';
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
});

test('delegateContainerCgroup chowns the cgroup2 and name=systemd dirs it created and their delegation files, nothing else', { skip: !isRoot && 'chown needs root' }, () => {
  const fs = mkdtempSync(join(tmpdir(), 'moat-deleg-'));
  try {
    const dir = (h: string) => {
      const d = join(fs, h, 'c1');
      mkdirSync(d, { recursive: true });
      for (const f of ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'tasks', 'memory.max', 'memory.limit_in_bytes']) writeFileSync(join(d, f), '');
      return d;
    };
    const cg = { mode: 'hybrid' as const, dirs: { memory: dir('memory'), 'name=systemd': dir('systemd'), unified: dir('unified'), pids: join(fs, 'pids-shared') }, created: [] as string[] };
    cg.created = [cg.dirs.memory, cg.dirs['name=systemd'], cg.dirs.unified];
    const got = delegateContainerCgroup(cg, 4321, 8765);
    assert.deepEqual(got, [cg.dirs.unified, cg.dirs['name=systemd']]);
    const owner = (p: string) => `${statSync(p).uid}:${statSync(p).gid}`;
    for (const p of [cg.dirs.unified, join(cg.dirs.unified, 'cgroup.procs'), join(cg.dirs.unified, 'cgroup.subtree_control'), cg.dirs['name=systemd'], join(cg.dirs['name=systemd'], 'tasks')]) assert.equal(owner(p), '4321:8765', p);
    // a limit's file, and the resource controllers' dirs, stay the host's
    for (const p of [join(cg.dirs.unified, 'memory.max'), cg.dirs.memory, join(cg.dirs.memory, 'memory.limit_in_bytes')]) assert.equal(owner(p), '0:0', p);
    // a dir moat did not create is never delegated
    assert.deepEqual(delegateContainerCgroup({ ...cg, created: [] }, 1, 1), []);
    // what the container made beneath is removed deepest first
    mkdirSync(join(cg.dirs.unified, 'system.slice', 'a.service'), { recursive: true });
    mkdirSync(join(cg.dirs.unified, 'init.scope'));
    removeDelegatedDescendants(cg.dirs.unified);
    assert.ok(!existsSync(join(cg.dirs.unified, 'system.slice')) && !existsSync(join(cg.dirs.unified, 'init.scope')));
    assert.ok(existsSync(cg.dirs.unified), 'the delegated dir itself is left for the removal of the dirs moat created');
  } finally {
    rmSync(fs, { recursive: true, force: true });
  }
});

test('execLeafDir: the delegated dir while it enables no controller, else a leaf beneath it', () => {
  const d = mkdtempSync(join(tmpdir(), 'moat-leaf-'));
  try {
    writeFileSync(join(d, 'cgroup.subtree_control'), '\n');
    assert.equal(execLeafDir(d), d);
    writeFileSync(join(d, 'cgroup.subtree_control'), 'memory pids\n');
    assert.equal(execLeafDir(d), join(d, 'moat-exec'));
    assert.equal(execLeafDir(d), join(d, 'moat-exec'), 'an existing leaf is reused');
    assert.ok(statSync(join(d, 'moat-exec')).isDirectory());
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
