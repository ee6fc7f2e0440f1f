// The MAC host probe against fake sysfs/securityfs trees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { probeMacHost } from './host.js';
import { macHostReport } from './report.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'moat-machost-'));
  for (const [p, v] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    if (p.endsWith('/')) mkdirSync(join(root, p), { recursive: true });
    else writeFileSync(join(root, p), v);
  }
  return root;
}

test('probe: SELinux enforcing with MCS, AppArmor, Smack, none', (t) => {
  const se = tree({ 'sys/kernel/security/lsm': 'capability,landlock,yama,selinux', 'sys/fs/selinux/enforce': '1', 'sys/fs/selinux/mls': '1', 'sys/fs/selinux/class/process/index': '2' });
  const aa = tree({ 'sys/kernel/security/lsm': 'capability,landlock,apparmor', 'sys/module/apparmor/parameters/enabled': 'Y', 'sys/kernel/security/apparmor/profiles': '', 'proc/self/attr/apparmor/exec': '' });
  const sm = tree({ 'sys/kernel/security/lsm': 'capability,smack', 'sys/fs/smackfs/load2': '' });
  const none = tree({ 'sys/kernel/security/lsm': 'capability,landlock,yama,bpf' });
  t.after(() => { for (const d of [se, aa, sm, none]) rmSync(d, { recursive: true, force: true }); });
  assert.deepEqual(probeMacHost({ sysRoot: se }), { lsms: ['capability', 'landlock', 'yama', 'selinux'], selinux: { enforcing: true, mls: true, policyLoaded: true } });
  assert.deepEqual(probeMacHost({ sysRoot: aa, parser: '/x/apparmor_parser' }).apparmor, { parser: '/x/apparmor_parser', attrDir: true });
  assert.deepEqual(probeMacHost({ sysRoot: aa, parser: null }).apparmor, { attrDir: true });
  assert.deepEqual(probeMacHost({ sysRoot: sm }).smack, { load2: true });
  const n = probeMacHost({ sysRoot: none });
  assert.deepEqual(n, { lsms: ['capability', 'landlock', 'yama', 'bpf'] });
  const r = macHostReport(n, { abi: 7 });
  assert.deepEqual(r.layers.map((l) => [l.layer, l.active, l.used]), [['Landlock', true, true], ['SELinux', false, false], ['AppArmor', false, false], ['Smack', false, false]]);
  const ra = macHostReport(probeMacHost({ sysRoot: aa, parser: null }), { abi: 0, reason: 'off' });
  assert.match(ra.layers[2]!.detail, /apparmor_parser` not found/);
  assert.equal(ra.layers[0]!.used, false);
});
