// MAC backends' output checked against the kernel's formats: SELinux contexts and MCS levels,
// the exact proc attr writes, mount data, AppArmor profile text, Smack load2 rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OciSpec } from '../../spec/oci-types.js';
import {
  apparmorProfileText, compileMac, containerFileLabel, containerProcessLabel, macBackendsOf, mcsLevel, mcsPairIssue,
  selinuxContextIssue, SMACK_LABEL_ANNOTATION, smackLabelIssue, smackRevokeRules, type MacHost,
} from './index.js';
import { planSandboxMac } from './sandbox.js';

const NONE: MacHost = { lsms: ['capability', 'landlock', 'yama', 'bpf'] };
const SELINUX: MacHost = { lsms: ['capability', 'landlock', 'selinux'], selinux: { enforcing: true, mls: true, policyLoaded: true } };
const APPARMOR: MacHost = { lsms: ['capability', 'landlock', 'apparmor'], apparmor: { parser: '/sbin/apparmor_parser', attrDir: true } };
const SMACK: MacHost = { lsms: ['capability', 'landlock', 'smack'], smack: { load2: true } };

function spec(extra: { process?: Partial<NonNullable<OciSpec['process']>>; linux?: Partial<NonNullable<OciSpec['linux']>>; annotations?: Record<string, string> } = {}): OciSpec {
  return {
    ociVersion: '1.2.0', root: { path: 'rootfs' },
    process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 }, capabilities: { bounding: ['CAP_CHOWN'] }, ...extra.process },
    linux: { namespaces: [{ type: 'mount' }], ...extra.linux },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  } as OciSpec;
}

test('MCS levels and sandbox labels in the kernel\'s form', () => {
  assert.equal(mcsLevel([7, 3]), 's0:c3,c7');
  assert.equal(containerProcessLabel([3, 7]), 'system_u:system_r:container_t:s0:c3,c7');
  assert.equal(containerFileLabel([3, 7]), 'system_u:object_r:container_file_t:s0:c3,c7');
  assert.equal(mcsPairIssue([0, 1023]), undefined);
  assert.match(mcsPairIssue([5, 5])!, /different/);
  assert.match(mcsPairIssue([0, 1024])!, /c1023/);
});

test('SELinux contexts: valid ones pass, malformed ones are named', () => {
  for (const ok of ['system_u:system_r:container_t:s0:c1,c2', 'u:r:t', 'system_u:system_r:spc_t:s0', 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023'])
    assert.equal(selinuxContextIssue(ok), undefined, ok);
  assert.match(selinuxContextIssue('container_t')!, /user:role:type/);
  assert.match(selinuxContextIssue('u:r:t:s0 c1')!, /whitespace/);
  assert.match(selinuxContextIssue('u:r:t:x1')!, /level/);
  assert.match(selinuxContextIssue('u:r:t"x')!, /quotes/);
});

test('SELinux: the exec attr write and context= mount data', () => {
  const label = 'system_u:system_r:container_t:s0:c1,c2', ml = 'system_u:object_r:container_file_t:s0:c1,c2';
  const m = compileMac(spec({ process: { selinuxLabel: label }, linux: { mountLabel: ml } }), SELINUX);
  assert.deepEqual(m.issues, []);
  assert.deepEqual(m.attrs, [{ backend: 'selinux', path: '/proc/thread-self/attr/exec', value: label, when: 'exec', origin: 'process.selinuxLabel' }]);
  for (const t of ['tmpfs', 'devpts']) assert.deepEqual(m.mountData[t], [`context="${ml}"`]);
  assert.equal(m.mountData.mqueue, undefined, 'no context= on mqueue (refused in a user namespace)');
  assert.equal(m.mountData.proc, undefined, 'proc takes no context= (genfs labelled)');
  // a mount label alone labels files, writes no attr
  const only = compileMac(spec({ linux: { mountLabel: ml } }), SELINUX);
  assert.deepEqual(only.attrs, []);
  assert.deepEqual(only.mountData.tmpfs, [`context="${ml}"`]);
});

test('AppArmor: `exec PROFILE` to attr/apparmor/exec, falling back to attr/exec', () => {
  const m = compileMac(spec({ process: { apparmorProfile: 'moat-default' } }), APPARMOR);
  assert.deepEqual(m.issues, []);
  assert.deepEqual(m.attrs, [{ backend: 'apparmor', path: '/proc/thread-self/attr/apparmor/exec', fallback: '/proc/thread-self/attr/exec', value: 'exec moat-default', when: 'exec', origin: 'process.apparmorProfile' }]);
  const bad = compileMac(spec({ process: { apparmorProfile: 'two words' } }), APPARMOR);
  assert.equal(bad.issues[0]!.path, 'process.apparmorProfile');
});

test('Smack: label taken through attr/smack/current, Listing 1 rules, mount options by user namespace', () => {
  const host = compileMac(spec({ annotations: { [SMACK_LABEL_ANNOTATION]: 'vs1' } }), SMACK);
  assert.deepEqual(host.issues, []);
  assert.deepEqual(host.attrs, [{ backend: 'smack', path: '/proc/thread-self/attr/smack/current', fallback: '/proc/self/attr/current', value: 'vs1', when: 'current', origin: 'annotations.run.moat.smack.label' }]);
  assert.deepEqual(host.smackRules, ['vs1 _ rwxa', '_ vs1 rwxa']);
  assert.deepEqual(smackRevokeRules('vs1'), ['vs1 _ -', '_ vs1 -']);
  for (const r of host.smackRules) assert.match(r, /^\S{1,255} \S{1,255} [rwxatlb-]+$/, 'load2 long format');
  assert.deepEqual(host.mountData.tmpfs, ['smackfsroot=vs1', 'smackfsdef=vs1']);
  // in a user namespace of its own the kernel refuses smackfs* options and labels the mount itself
  const userns = compileMac(spec({ annotations: { [SMACK_LABEL_ANNOTATION]: 'vs1' }, linux: { namespaces: [{ type: 'user' }, { type: 'mount' }] } }), SMACK);
  assert.deepEqual(userns.mountData, {});
});

test('Smack: CAP_MAC_ADMIN and CAP_MAC_OVERRIDE are refused by field; bad labels named', () => {
  const m = compileMac(spec({ annotations: { [SMACK_LABEL_ANNOTATION]: 'vs1' }, process: { capabilities: { bounding: ['CAP_CHOWN', 'CAP_MAC_ADMIN'], effective: ['CAP_MAC_OVERRIDE'] } } }), SMACK);
  assert.deepEqual(m.issues.map((i) => i.path).sort(), ['process.capabilities.bounding[1]', 'process.capabilities.effective[0]']);
  for (const bad of ['_', '*', '-x', 'a b', 'a/b', 'x'.repeat(256), '']) assert.ok(smackLabelIssue(bad), bad);
  assert.equal(smackLabelIssue('moat.sandbox-web1'), undefined);
});

test('a label for an LSM the host lacks is an issue naming the field, never dropped', () => {
  const m = compileMac(spec({ process: { selinuxLabel: 'u:r:t:s0', apparmorProfile: 'p' }, linux: { mountLabel: 'u:object_r:t:s0' }, annotations: { [SMACK_LABEL_ANNOTATION]: 'vs1' } }), NONE);
  assert.deepEqual(m.issues.map((i) => i.path), ['process.selinuxLabel', 'linux.mountLabel', 'process.apparmorProfile', 'annotations.run.moat.smack.label']);
  assert.match(m.issues[0]!.message, /no SELinux .*landlock/);
  assert.deepEqual(m.attrs, []);
  assert.deepEqual(compileMac(spec(), NONE), { layers: [], attrs: [], mountData: {}, smackRules: [], issues: [] });
  assert.match(compileMac(spec({ process: { selinuxLabel: 'u:r:t:s0' } }), { ...SELINUX, selinux: { enforcing: true, mls: true, policyLoaded: false } }).issues[0]!.message, /no policy/);
});

test('the Smack label is taken before the exec labels', () => {
  const both: MacHost = { lsms: ['apparmor', 'smack'], apparmor: APPARMOR.apparmor!, smack: { load2: true } };
  const m = compileMac(spec({ process: { apparmorProfile: 'p' }, annotations: { [SMACK_LABEL_ANNOTATION]: 'vs1' } }), both);
  assert.deepEqual(m.attrs.map((a) => a.when), ['current', 'exec']);
  assert.deepEqual(macBackendsOf(both), ['apparmor', 'smack']);
});

test('the generated AppArmor profile: LXC-style denials, signals and ptrace kept within', () => {
  const t = apparmorProfileText('moat.sandbox-web1');
  assert.match(t, /^profile moat\.sandbox-web1 flags=\(attach_disconnected,mediate_deleted\) \{$/m);
  // `audit deny`: AppArmor keeps plain deny rules quiet; these must show in the kernel log
  for (const line of ['audit deny mount,', 'audit deny umount,', 'audit deny pivot_root,', 'audit deny /proc/sys/** wklx,', 'audit deny /proc/sysrq-trigger wklx,', 'audit deny /sys/** wklx,', 'audit deny /proc/kcore rwklx,', 'audit deny /sys/kernel/security/** rwklx,',
    'signal (send, receive) peer=moat.sandbox-web1,', 'signal (receive) peer=unconfined,', 'ptrace (read, trace, readby, tracedby) peer=moat.sandbox-web1,', 'file,'])
    assert.ok(t.split('\n').map((l) => l.trim()).includes(line), `has \`${line}\``);
  assert.ok(!/^\s*#include/m.test(t), 'no includes: loads without /etc/apparmor.d');
  assert.equal((t.match(/\{/g) ?? []).length, (t.match(/\}/g) ?? []).length);
  assert.throws(() => apparmorProfileText('a,b'), /apparmor profile name/);
});

test('sandbox MAC plan: required, best-effort and off', () => {
  const ll = { landlockAbi: 7 };
  const se = planSandboxMac('required', { ...SELINUX, ...ll }, { label: 'moat.sandbox-a', mcs: [4, 9] });
  assert.equal(se.refusal, undefined);
  assert.equal(se.landlock, 'on');
  assert.deepEqual(se.selinux, { label: 'system_u:system_r:container_t:s0:c4,c9', mountLabel: 'system_u:object_r:container_file_t:s0:c4,c9', level: 's0:c4,c9' });
  assert.deepEqual(se.layers.map((l) => [l.layer, l.used]), [['Landlock', true], ['SELinux', true]]);
  const aa = planSandboxMac('required', { ...APPARMOR, ...ll }, { label: 'moat.sandbox-a' });
  assert.equal(aa.apparmor!.profile, 'moat.sandbox-a');
  const sm = planSandboxMac('required', { ...SMACK, ...ll }, { label: 'moat.sandbox-a' });
  assert.deepEqual(sm.smack, { label: 'moat.sandbox-a', rules: ['moat.sandbox-a _ rwxa', '_ moat.sandbox-a rwxa'] });
  // only Landlock: required is met
  assert.equal(planSandboxMac('required', { ...NONE, ...ll }, { label: 'x' }).refusal, undefined);
  // an active module moat cannot drive: required refuses with the reason, best-effort names it
  const noParser = { ...APPARMOR, apparmor: { attrDir: true }, ...ll };
  assert.match(planSandboxMac('required', noParser, { label: 'x' }).refusal!, /AppArmor: `apparmor_parser` was not found/);
  const be = planSandboxMac('best-effort', noParser, { label: 'x' });
  assert.equal(be.refusal, undefined);
  assert.equal(be.landlock, 'best-effort');
  assert.deepEqual(be.skipped, ['AppArmor skipped: `apparmor_parser` was not found (install Debian\'s `apparmor`, or set MOAT_APPARMOR_PARSER)']);
  // nothing at all
  assert.match(planSandboxMac('required', { ...NONE, landlockAbi: 0, landlockReason: 'ENOSYS' }, { label: 'x' }).refusal!, /no MAC layer applies/);
  const off = planSandboxMac('off', { ...SELINUX, ...ll }, { label: 'x', mcs: [1, 2] });
  assert.equal(off.landlock, 'off');
  assert.equal(off.selinux, undefined);
  assert.ok(off.layers.every((l) => !l.used));
});
