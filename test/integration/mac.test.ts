// MAC layers (issue 6) with real containers. On a host without SELinux, AppArmor or Smack
// (this build machine): a label for a missing LSM is refused by field and leaves nothing
// behind; sandboxes take Landlock and say so. In the VMs of `npm run test:vm`, where one of
// them runs: a sandbox confined by its generated AppArmor profile (denials in the kernel
// log), distinct MCS pairs and Smack labels that stop seed 000's "help vs1 cheat" bind mount,
// each also shown to succeed with the layer off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, timeScale } from '../lib/bundle.js';
import { Scratch, assertNoLeftovers, uniqueId } from '../lib/oci.js';
import { MoatScratch, assertSandboxGone } from '../lib/moat.js';
import { apparmorProfileText, macUnavailable, SMACK_LABEL_ANNOTATION } from '../../src/policy/mac/index.js';
import { loadApparmorProfile, macHost, removeApparmorProfile } from '../../src/runtime/mac/index.js';

const root = isRoot() ? false : 'integration tests create containers and need root';
const host = macHost();
const has = (b: 'selinux' | 'apparmor' | 'smack') => !macUnavailable(b, host);
const anyMac = has('selinux') || has('apparmor') || has('smack');

/** Waits for a kernel log line (audit records reach the log through the kauditd thread, a
 * moment after the denial); returns it, or fails listing the LSM lines that were there. */
async function kernelLogLine(re: RegExp): Promise<string> {
  const deadline = Date.now() + 20_000 * timeScale;
  for (;;) {
    const lines = (spawnSync('dmesg', [], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout ?? '').split('\n');
    const hit = lines.find((l) => re.test(l));
    if (hit) return hit;
    if (Date.now() > deadline) assert.fail(`no kernel log line matches ${re}; LSM lines: ${lines.filter((l) => /apparmor=|avc:|Smack/.test(l)).slice(-10).join('\n') || 'none'}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// In the VMs the data dir is on tmpfs, which Linux 6.1 cannot id-map: the MAC tests' sandboxes
// share the host's ids there (--userns host), so root inside is root outside and only the MAC
// layer stands between vs1 and vs2's file (a stronger experiment than with private ids)
const VM_USERNS = ['--userns', 'host'];

async function pidOf(s: MoatScratch, name: string): Promise<number> {
  return JSON.parse(await s.ok(['inspect', '--json', name])).pid as number;
}

function attrCurrent(pid: number): string {
  return readFileSync(`/proc/${pid}/attr/current`, 'utf8').replace(/\0/g, '').trim();
}

describe('MAC labels for an LSM the host lacks (moat-oci)', { skip: root }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());
  const cases: ['selinux' | 'apparmor' | 'smack', string, (c: any) => void][] = [
    ['selinux', 'process.selinuxLabel', (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2')],
    ['selinux', 'linux.mountLabel', (c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2')],
    ['apparmor', 'process.apparmorProfile', (c) => (c.process.apparmorProfile = 'moat-nonesuch')],
    ['smack', `annotations.${SMACK_LABEL_ANNOTATION}`, (c) => (c.annotations = { ...c.annotations, [SMACK_LABEL_ANNOTATION]: 'vs1' })],
  ];
  for (const [lsm, field, edit] of cases) {
    test(`\`${field}\` is refused by name and nothing is left behind`, { skip: has(lsm) ? `this host has ${lsm}: the VM suite tests it for real` : false }, async () => {
      const b = s.bundle(edit);
      const id = uniqueId('mac');
      const r = await s.cli(['create', '-b', b.dir, id]);
      assert.notEqual(r.code, 0);
      assert.ok(r.stderr.includes(field), r.stderr);
      assert.match(r.stderr, /needs (SELinux|AppArmor|Smack), but this host has no/);
      assertNoLeftovers(s.state.root, id);
    });
  }

  test('`moat-oci features` lists the active LSMs and what moat uses', async () => {
    const f = JSON.parse((await s.cli(['features'])).stdout);
    assert.equal(f.annotations['run.moat.mac.lsms'], host.lsms.join(','));
    assert.equal(f.linux.selinux.enabled, has('selinux'));
    assert.equal(f.linux.apparmor.enabled, has('apparmor'));
    for (const l of ['landlock', 'selinux', 'apparmor', 'smack']) assert.ok(f.annotations[`run.moat.mac.${l}`], l);
  });
});

describe('sandbox --mac on this host', { skip: root }, () => {
  let s: MoatScratch;
  before(() => (s = new MoatScratch()));
  after(async () => s.cleanup());

  test('a bad --mac is refused by name, nothing made', async () => {
    const r = await s.moat(['create', 'badmac', '--mac', 'maybe']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--mac.*`maybe` is not required, best-effort, off/);
    assertSandboxGone(s, 'badmac');
  });

  test('inspect shows the mac mode and each layer; off turns Landlock off too', async () => {
    await s.ok(['create', 'macdef']);
    const r = JSON.parse(await s.ok(['inspect', '--json', 'macdef']));
    assert.equal(r.mac, 'required');
    const ll = r.security.find((l: any) => l.layer === 'Landlock');
    assert.equal(ll.active, true);
    if (!anyMac) assert.ok(r.security.some((l: any) => l.layer === 'SELinux/AppArmor/Smack' && !l.active && /Landlock is the MAC layer/.test(l.detail)));
    await s.ok(['create', 'macoff', '--mac', 'off']);
    const off = JSON.parse(await s.ok(['inspect', '--json', 'macoff']));
    assert.equal(off.mac, 'off');
    assert.equal(off.security.find((l: any) => l.layer === 'Landlock').active, false);
    await s.ok(['delete', 'macdef']);
    await s.ok(['delete', 'macoff']);
  });
});

describe('AppArmor (VM)', { skip: root || (has('apparmor') && host.apparmor?.parser ? false : 'no AppArmor with apparmor_parser on this host (the apparmor VM of `npm run test:vm` has it)') }, () => {
  let s: Scratch, m: MoatScratch;
  const profile = `moat-test-${process.pid}`;
  before(() => {
    s = new Scratch();
    m = new MoatScratch();
    loadApparmorProfile(host.apparmor!.parser!, apparmorProfileText(profile), profile);
  });
  after(async () => {
    await m.cleanup();
    await s.cleanup();
    removeApparmorProfile(profile);
  });

  // /proc/sys writable on purpose (no readonlyPaths), so that only the profile stands in the way
  const writable = (c: any) => (c.linux.readonlyPaths = []);

  test('moat-oci: the generated profile denies a write to /proc/sys (in the kernel log); without it the write succeeds', async () => {
    const cmd = ['/bin/sh', '-c', 'cat /proc/self/attr/current; echo moat-aa > /proc/sys/kernel/hostname && echo WROTE'];
    const r = await s.run((c) => { writable(c); c.process.apparmorProfile = profile; }, cmd);
    assert.match(r.stdout, new RegExp(`^${profile} \\(enforce\\)`));
    assert.ok(!r.stdout.includes('WROTE'), r.stdout);
    await kernelLogLine(new RegExp(`apparmor="DENIED" operation="open".*profile="${profile}" name="/proc/sys/kernel/hostname"`));
    const off = await s.run(writable, cmd);
    assert.match(off.stdout, /WROTE/, off.stderr);
  });

  test('a sandbox runs under its own generated profile: /proc/kcore denied, logged; with --mac off allowed; profile removed at delete', async () => {
    await m.ok(['create', 'aa1', ...VM_USERNS]);
    await m.ok(['start', 'aa1']);
    const pid = await pidOf(m, 'aa1');
    assert.match(attrCurrent(pid), /^moat\.sandbox-aa1\S* \(enforce\)$/);
    const r = await m.moat(['exec', 'aa1', 'cat', '/proc/kcore']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied/);
    await kernelLogLine(/apparmor="DENIED" operation="open".*profile="moat\.sandbox-aa1[^"]*" name="\/proc\/kcore"/);
    const insp = JSON.parse(await m.ok(['inspect', '--json', 'aa1']));
    assert.ok(insp.security.some((l: any) => l.layer === 'AppArmor' && l.active && /moat\.sandbox-aa1/.test(l.observed)));
    await m.ok(['create', 'aa2', '--mac', 'off', ...VM_USERNS]);
    await m.ok(['start', 'aa2']);
    assert.equal((await m.moat(['exec', 'aa2', 'cat', '/proc/kcore'])).code, 0, 'masked to an empty file, readable');
    await m.ok(['delete', '--force', 'aa1']);
    await m.ok(['delete', '--force', 'aa2']);
    assert.ok(!readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8').includes('moat.sandbox-aa1'), 'profile unloaded');
  });
});

/** Seed 000's experiment: vs2 writes a world-readable file into a host dir; vs1 gets that dir
 * bind-mounted ("help vs1 cheat") and tries to read it. DAC allows it; only MAC can refuse. */
async function cheat(m: MoatScratch, shared: string): Promise<{ vs1: number; vs2: number; denied: string; offRead: string }> {
  await m.ok(['create', 'vs2', ...VM_USERNS, '--volume', `${shared}:/share`]);
  await m.ok(['start', 'vs2']);
  await m.ok(['exec', 'vs2', 'sh', '-c', 'echo vs2-secret > /share/secret && chmod 644 /share/secret']);
  await m.ok(['create', 'vs1', ...VM_USERNS, '--volume', `${shared}:/mnt:ro`]);
  await m.ok(['start', 'vs1']);
  const denied = await m.moat(['exec', 'vs1', 'cat', '/mnt/secret']);
  assert.notEqual(denied.code, 0, `vs1 read vs2's file: ${denied.stdout}`);
  await m.ok(['create', 'vsoff', '--mac', 'off', ...VM_USERNS, '--volume', `${shared}:/mnt:ro`]);
  await m.ok(['start', 'vsoff']);
  const offRead = await m.ok(['exec', 'vsoff', 'cat', '/mnt/secret']);
  return { vs1: await pidOf(m, 'vs1'), vs2: await pidOf(m, 'vs2'), denied: denied.stderr, offRead };
}

/** cheat()'s scratch data dir and world-writable shared dir, made before a suite and removed after it. */
function cheatFixture(): { m: MoatScratch; shared: string } {
  const f = {} as { m: MoatScratch; shared: string };
  before(() => {
    f.m = new MoatScratch();
    f.shared = mkdtempSync(join(tmpdir(), 'moat-cheat-'));
    chmodSync(f.shared, 0o777);
  });
  after(async () => {
    await f.m.cleanup();
    rmSync(f.shared, { recursive: true, force: true });
  });
  return f;
}

describe('SELinux MCS (VM)', { skip: root || (has('selinux') && host.selinux?.mls ? false : 'no SELinux with an MCS policy on this host (the selinux VM of `npm run test:vm` loads one)') }, () => {
  const f = cheatFixture();

  test('two sandboxes get distinct MCS pairs (container_t), and vs1 cannot read vs2\'s file through a bind mount; with --mac off it can', async () => {
    const r = await cheat(f.m, f.shared);
    const l1 = attrCurrent(r.vs1), l2 = attrCurrent(r.vs2);
    assert.match(l1, /^system_u:system_r:container_t:s0:c\d+,c\d+$/);
    assert.match(l2, /^system_u:system_r:container_t:s0:c\d+,c\d+$/);
    assert.notEqual(l1.split(':').slice(3).join(':'), l2.split(':').slice(3).join(':'), 'distinct pairs');
    assert.match(r.denied, /Permission denied/);
    assert.equal(r.offRead.trim(), 'vs2-secret');
    const insp = JSON.parse(await f.m.ok(['inspect', '--json', 'vs1']));
    assert.ok(insp.security.some((l: any) => l.layer === 'SELinux' && l.active && l.observed.includes(l1)));
    const pool = JSON.parse(readFileSync(process.env.MOAT_MCS_POOL ?? '/var/lib/moat/mcs.json', 'utf8'));
    const mine = Object.keys(pool).filter((k) => k.startsWith(`${f.m.data}:`));
    assert.equal(mine.length, 2, 'vs1 and vs2 hold pairs, vsoff none');
    for (const n of ['vs1', 'vs2', 'vsoff']) await f.m.ok(['delete', '--force', n]);
    const after = JSON.parse(readFileSync(process.env.MOAT_MCS_POOL ?? '/var/lib/moat/mcs.json', 'utf8'));
    assert.equal(Object.keys(after).filter((k) => k.startsWith(`${f.m.data}:`)).length, 0, 'pairs freed at delete');
  });
});

describe('Smack (VM)', { skip: root || (has('smack') ? false : 'no Smack on this host (the smack VM of `npm run test:vm` has it)') }, () => {
  const f = cheatFixture();

  test('each sandbox has its own Smack label, and vs1 cannot read vs2\'s file through a bind mount; with --mac off it can', async () => {
    const r = await cheat(f.m, f.shared);
    assert.match(attrCurrent(r.vs1), /^moat\.sandbox-vs1/);
    assert.match(attrCurrent(r.vs2), /^moat\.sandbox-vs2/);
    assert.match(r.denied, /Permission denied/);
    assert.equal(r.offRead.trim(), 'vs2-secret');
    const status = readFileSync(`/proc/${r.vs1}/status`, 'utf8');
    const capEff = BigInt('0x' + /CapEff:\s*(\w+)/.exec(status)![1]);
    assert.equal(capEff & ((1n << 32n) | (1n << 33n)), 0n, 'no CAP_MAC_OVERRIDE, no CAP_MAC_ADMIN');
    for (const n of ['vs1', 'vs2', 'vsoff']) await f.m.ok(['delete', '--force', n]);
  });
});
