// The VMs of `npm run test:vm` (scripts/test-vm.mjs): one entry per kernel configuration.
// To add a suite, add an entry; `tests` are paths (relative to the project) of built test
// files run with node's test runner inside the guest; `lsm` must then be active in the guest.
//
//   name      the summary line's label, and what `npm run test:vm -- <name>` selects
//   append    kernel command line words for this boot
//   cgroup    'v2': cgroup2 mounted at /sys/fs/cgroup as systemd does (nsdelegate); 'none'
//   scope     where the test runner lives in cgroup v2: '' (the root cgroup) or a path such as
//             'system.slice/moat-test.scope' (as under systemd: a non-root cgroup with processes)
//   lsm       an LSM that must be listed in /sys/kernel/security/lsm, or '' for none
//   tests     test files (built .js under dist/, or .mjs under test/vm/); [] means "boots and checks its LSM only"
//   env       extra environment for the guest's test run (`$CACHE`: the Debian tools cache)
//   debs      Debian packages whose files the guest needs, unpacked into the cache (apt-get download)
//   selinuxPolicy  a policy.conf compiled with the cached checkpolicy into /moat-vm/policy.33
//   setup     shell lines run in the guest after the LSM check, before the tests
//   heavy     true: runs only when named, or with --all

const cgroupV2Tests = [
  // v2 limits, the device program, cgroup.freeze and cgroup.kill in real containers (plain JS,
  // not built: it only makes sense in this VM)
  'test/vm/cgroup-v2.test.mjs',
  'dist/test/integration/cgroups.test.js',
  'dist/test/integration/inside.test.js',
  'dist/test/integration/lifecycle.test.js',
  'dist/src/runtime/cgroups/cgroups-host.test.js',
];

export const VMS = [
  {
    name: 'cgroup-v2',
    // no MAC LSM, like a host without AppArmor/SELinux: this VM tests cgroup v2 alone
    append: ['cgroup_no_v1=all', 'lsm=landlock,lockdown,yama,bpf'],
    cgroup: 'v2',
    scope: '',
    lsm: '',
    tests: cgroupV2Tests,
    // TCG runs 5-20x slower than the host: the tests' waits stretch accordingly
    env: { MOAT_TEST_TIME_SCALE: '10' },
  },
  {
    // the same tests with the runner in a non-root cgroup, as under a systemd session or unit
    name: 'cgroup-v2-scope',
    append: ['cgroup_no_v1=all', 'lsm=landlock,lockdown,yama,bpf'],
    cgroup: 'v2',
    scope: 'system.slice/moat-test.scope',
    lsm: '',
    tests: cgroupV2Tests,
    heavy: true,
  },
  // LSM VMs: moat's MAC backends for real (dist/test/integration/mac.test.js: its VM parts run
  // where their LSM is active), plus the tests that show nothing else broke under the LSM
  {
    name: 'apparmor', append: ['cgroup_no_v1=all', 'lsm=landlock,yama,apparmor'], cgroup: 'v2', scope: '', lsm: 'apparmor',
    debs: ['apparmor'],
    tests: ['dist/test/integration/mac.test.js'],
    env: { MOAT_APPARMOR_PARSER: '$CACHE/apparmor/sbin/apparmor_parser', MOAT_TEST_TIME_SCALE: '10' },
  },
  {
    name: 'selinux', append: ['cgroup_no_v1=all', 'lsm=landlock,yama,selinux'], cgroup: 'v2', scope: '', lsm: 'selinux',
    debs: ['checkpolicy'],
    // test/vm/selinux/moat-mcs.conf, compiled on the host into the job dir, loaded enforcing
    selinuxPolicy: 'test/vm/selinux/moat-mcs.conf',
    setup: [
      'cat /moat-vm/policy.33 > /sys/fs/selinux/load || { echo "moat-vm: cannot load the SELinux policy"; exit 1; }',
      'echo 1 > /sys/fs/selinux/enforce',
      'echo "moat-vm: SELinux policy loaded, enforce=$(cat /sys/fs/selinux/enforce), mls=$(cat /sys/fs/selinux/mls), runner $(cat /proc/self/attr/current)"',
    ],
    tests: ['dist/test/integration/mac.test.js'],
    env: { MOAT_TEST_TIME_SCALE: '10' },
  },
  {
    name: 'smack', append: ['cgroup_no_v1=all', 'lsm=landlock,yama,smack'], cgroup: 'v2', scope: '', lsm: 'smack',
    tests: ['dist/test/integration/mac.test.js'],
    env: { MOAT_TEST_TIME_SCALE: '10' },
  },
];
