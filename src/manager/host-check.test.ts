// Host prerequisite checks against a fake /proc/sys, /etc/subuid and tools of the test's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_CHECKS, explainStartFailure, failingPrerequisites, runHostChecks, type HostCheckContext } from './host-check.js';
import { rootlessIds } from './userns.js';

function fakeHost(o: { sysctls?: Record<string, string>; subuid?: string; tools?: boolean } = {}): { ctx: HostCheckContext; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'moat-hostcheck-'));
  const procSys = join(dir, 'sys');
  for (const [k, v] of Object.entries({ 'user.max_user_namespaces': '1000', ...o.sysctls })) {
    const p = join(procSys, ...k.split('.'));
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, v + '\n');
  }
  writeFileSync(join(dir, 'subuid'), o.subuid ?? '');
  writeFileSync(join(dir, 'subgid'), o.subuid ?? '');
  const tool = (n: string) => {
    const p = join(dir, n);
    if (o.tools !== false) {
      writeFileSync(p, '#!/bin/sh\n');
      chmodSync(p, 0o755);
    }
    return p;
  };
  const ctx: HostCheckContext = {
    user: { name: 'alice', uid: 1000, gid: 1000 }, rootless: true, procSys, subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid'),
    newuidmap: tool('newuidmap'), newgidmap: tool('newgidmap'), cgroupLimits: () => 'not delegated',
  };
  return { ctx, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const statics = HOST_CHECKS.filter((c) => !c.probe);
const byId = async (ctx: HostCheckContext) => Object.fromEntries((await runHostChecks(ctx, statics)).map((r) => [r.id, r]));

test('every check has an id, a section and a title; ids are unique', () => {
  assert.equal(new Set(HOST_CHECKS.map((c) => c.id)).size, HOST_CHECKS.length);
  for (const c of HOST_CHECKS) assert.ok(c.id && c.section && c.title);
});

test('user.max_user_namespaces = 0 fails, with the sysctl that fixes it', async () => {
  const h = fakeHost({ sysctls: { 'user.max_user_namespaces': '0' } });
  try {
    const r = (await byId(h.ctx))['userns.max']!;
    assert.equal(r.status, 'fail');
    assert.match(r.fix!, /sysctl -w user\.max_user_namespaces=\d+/);
    assert.deepEqual(failingPrerequisites(h.ctx).map((f) => f.id), ['userns.max']);
    // a start that failed with the kernel's bare errno is explained by the failing check
    const e = explainStartFailure(new Error('create `x`: `linux.namespaces`: clone with flags 0x7e020000: ENOSPC'), h.ctx) as Error;
    assert.match(e.message, /ENOSPC; this host: user\.max_user_namespaces: is 0: nobody may create a user namespace \(fix: sysctl -w user\.max_user_namespaces=/);
  } finally {
    h.done();
  }
});

test('Debian\'s and Ubuntu\'s sysctls fail for a user, with their fix; root is not concerned', async () => {
  const h = fakeHost({ sysctls: { 'kernel.unprivileged_userns_clone': '0', 'kernel.apparmor_restrict_unprivileged_userns': '1' } });
  try {
    const r = await byId(h.ctx);
    assert.equal(r['userns.debian']!.status, 'fail');
    assert.match(r['userns.debian']!.fix!, /sysctl -w kernel\.unprivileged_userns_clone=1/);
    assert.equal(r['userns.apparmor']!.status, 'fail');
    assert.match(r['userns.apparmor']!.fix!, /kernel\.apparmor_restrict_unprivileged_userns=0/);
    const root = await byId({ ...h.ctx, rootless: false, user: { name: 'root', uid: 0, gid: 0 } });
    assert.equal(root['userns.debian']!.status, 'ok');
    assert.equal(root['userns.apparmor']!.status, 'ok');
  } finally {
    h.done();
  }
});

test('missing newuidmap and missing subordinate ids warn, with apt-get and usermod; a big range is ok', async () => {
  const none = fakeHost({ tools: false });
  try {
    const r = await byId(none.ctx);
    assert.equal(r['uidmap']!.status, 'warn');
    assert.match(r['uidmap']!.fix!, /apt-get install uidmap/);
    assert.equal(r['subids']!.status, 'warn');
    assert.match(r['subids']!.fix!, /^usermod --add-subuids \d+-\d+ --add-subgids \d+-\d+ alice/);
    assert.equal(r['cgroups']!.status, 'warn');
    assert.deepEqual(rootlessIds({ subuid: none.ctx.subuid, subgid: none.ctx.subgid, newuidmap: none.ctx.newuidmap, newgidmap: none.ctx.newgidmap }, none.ctx.user).kind, 'single');
  } finally {
    none.done();
  }
  const small = fakeHost({ subuid: 'alice:100000:65536\n' });
  try {
    assert.equal((await byId(small.ctx))['subids']!.status, 'warn');
    const f = { subuid: small.ctx.subuid, subgid: small.ctx.subgid, newuidmap: small.ctx.newuidmap, newgidmap: small.ctx.newgidmap };
    assert.deepEqual(rootlessIds(f, small.ctx.user), { kind: 'shared', uid: 100000, gid: 100000, size: 65536 });
  } finally {
    small.done();
  }
  const big = fakeHost({ subuid: 'bob:100000:65536\n1000:200000:655360\n' });
  try {
    const r = await byId(big.ctx);
    assert.equal(r['subids']!.status, 'ok');
    assert.match(r['subids']!.detail, /10 sandboxes/);
    const f = { subuid: big.ctx.subuid, subgid: big.ctx.subgid, newuidmap: big.ctx.newuidmap, newgidmap: big.ctx.newgidmap };
    assert.deepEqual(rootlessIds(f, big.ctx.user), { kind: 'slices', uid: 200000, gid: 200000, size: 655360 });
  } finally {
    big.done();
  }
});

test('networking: a missing tun device warns a user with its fix; missing CNI plugins warn root', async () => {
  const { ctx, done } = fakeHost();
  try {
    const dir = join(ctx.procSys, '..');
    const r = await byId({ ...ctx, netTun: join(dir, 'no-tun') });
    assert.equal(r['net.tun']!.status, 'warn');
    assert.match(r['net.tun']!.detail, /ENOENT.*pasta/);
    assert.match(r['net.tun']!.fix!, /chmod 0666/);
    const asRoot = await byId({ ...ctx, rootless: false, user: { name: 'root', uid: 0, gid: 0 }, cniPath: join(dir, 'no-cni') });
    assert.equal(asRoot['net.tools']!.status, 'warn');
    assert.match(asRoot['net.tools']!.detail, /bridge, host-local, portmap, firewall, tuning/);
    assert.match(asRoot['net.tools']!.fix!, /containernetworking-plugins/);
    assert.equal(asRoot['net.tun']!.status, 'ok');
  } finally {
    done();
  }
});
