// Rootless `moat`: an ordinary user (`moat-rootless`, made by `.ci/run`) runs named sandboxes
// end to end in its own data dir (a test HOME) with its runtime state under its
// XDG_RUNTIME_DIR; root inside maps to the user's subordinate range; a file made inside is
// owned on the host by that range; cgroup limits are refused by name; `moat check` names the
// prerequisites, and for a uid without subordinate ids gives the fix (and its sandboxes map
// that uid alone).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, isStaticElf, removeTree, runThroughFiles, timeScale, lookupTestUser, ROOTLESS_TEST_USER } from '../lib/bundle.js';
import { moatPath, waitFor } from '../lib/moat.js';
import { TestNetns } from '../lib/netns.js';
import { subordinateRanges } from '../../src/runtime/rootless.js';
import { rootlessRuntimeRoot } from '../../src/manager/layout.js';

const USER = ROOTLESS_TEST_USER;
/** a uid with no passwd entry and no subordinate ids */
const BARE_UID = 54321;


const user = isRoot() ? lookupTestUser() : undefined;

function skipReason(): string | false {
  if (!isRoot()) return 'the rootless tests need root to switch to the test user';
  if (!user) return `no user \`${USER}\` (create it with \`useradd -m ${USER}\`)`;
  if (!existsSync('/bin/busybox') || !isStaticElf('/bin/busybox')) return 'needs busybox-static';
  if (spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status !== 0) return 'setpriv (util-linux) is missing';
  if (!(Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim()) > 0)) return 'user namespaces are disabled (sysctl user.max_user_namespaces=0)';
  const r = spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', process.execPath, moatPath, '--version'], { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) return `\`${USER}\` cannot run ${moatPath}: ${(r.stderr || r.stdout).trim()}`;
  return false;
}

const skip = skipReason();

interface Result { code: number | null; stdout: string; stderr: string }

/** A home of a uid's own in a test dir: HOME, XDG_RUNTIME_DIR (0700), and `moat` run as it. */
class UserHome {
  readonly top = mkdtempSync(join(tmpdir(), 'moat-rl-home-'));
  readonly home = join(this.top, 'home');
  readonly runtime = join(this.top, 'run');
  /** `prefix`: a command that runs moat (setpriv and its arguments come after it) */
  constructor(readonly uid: number, readonly gid: number, readonly prefix: string[] = []) {
    chmodSync(this.top, 0o755);
    for (const [d, mode] of [[this.home, 0o755], [this.runtime, 0o700]] as const) {
      mkdirSync(d, { mode });
      chownSync(d, uid, gid);
    }
  }
  get data(): string {
    return join(this.home, '.local', 'share', 'moat');
  }
  moat(args: string[]): Promise<Result> {
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: this.home, XDG_RUNTIME_DIR: this.runtime, LANG: 'C', ...(process.env.MOAT_TEST_TIME_SCALE ? { MOAT_TEST_TIME_SCALE: process.env.MOAT_TEST_TIME_SCALE } : {}) };
    const argv = [...this.prefix, 'setpriv', `--reuid=${this.uid}`, `--regid=${this.gid}`, '--clear-groups', '--', process.execPath, moatPath, ...args];
    return runThroughFiles(argv, { cwd: '/', env, timeoutMs: 60_000 * timeScale });
  }
  async ok(args: string[]): Promise<string> {
    const r = await this.moat(args);
    assert.equal(r.code, 0, `moat ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }
  async cleanup(): Promise<void> {
    const sandboxes = join(this.data, 'sandboxes');
    for (const n of existsSync(sandboxes) ? readdirSync(sandboxes) : []) await this.moat(['delete', '--force', n]);
    removeTree(this.top);
  }
}

const mapOf = (text: string) => text.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));

describe('moat rootless: an ordinary user runs sandboxes', { skip }, () => {
  let h: UserHome;
  const ranges = user ? subordinateRanges('/etc/subuid', { name: USER, uid: user.uid }) : [];
  before(() => (h = new UserHome(user!.uid, user!.gid)));
  after(async () => h?.cleanup());

  test('`moat run --rm`: root inside, the user\'s subordinate range (or its own id) outside; nothing left', async () => {
    const out = await h.ok(['run', '--rm', '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    const [uid, ...map] = out.trim().split('\n');
    assert.equal(uid, '0');
    const [inside, outside, count] = mapOf(map.join('\n'))[0]!;
    assert.equal(inside, 0);
    if (ranges.length) {
      const r = ranges[0]!;
      assert.ok(outside! >= r.start && outside! + count! <= r.start + r.count, `map ${outside}+${count} is within ${r.start}+${r.count}`);
    } else assert.deepEqual([outside, count], [user!.uid, 1]);
    assert.ok(existsSync(join(h.data, 'sandboxes')), 'the default data dir is ~/.local/share/moat');
    assert.deepEqual(readdirSync(join(h.data, 'sandboxes')), [], '--rm removed the sandbox');
    assert.deepEqual(readdirSync(join(h.data, 'trash')), []);
  });

  test('create, start, exec, list, inspect, logs, stop, delete of a named sandbox; files made inside belong to the mapped uid', async () => {
    await h.ok(['create', 'rl1', '--template', 'busybox', '--', 'sh', '-c', 'echo started; trap "exit 0" TERM; while :; do sleep 1; done']);
    await h.ok(['start', 'rl1']);
    // the runtime state is in the user's runtime dir, not the data dir
    const rt = rootlessRuntimeRoot(h.data, { XDG_RUNTIME_DIR: h.runtime }, user!.uid);
    assert.ok(rt.startsWith(h.runtime + '/moat/'), rt);
    assert.ok(existsSync(join(rt, 'rl1', 'state.json')), `runtime state under ${rt}`);
    const list = JSON.parse(await h.ok(['list', '--json'])) as { name: string; status: string }[];
    assert.equal(list.find((x) => x.name === 'rl1')?.status, 'running');
    const map = mapOf(await h.ok(['exec', 'rl1', '--', 'cat', '/proc/self/uid_map']))[0]!;
    await h.ok(['exec', 'rl1', '--', 'sh', '-c', 'echo mine > /root/made-inside']);
    const st = statSync(join(h.data, 'sandboxes', 'rl1', 'rootfs', 'root', 'made-inside'));
    assert.equal(st.uid, map[1], 'owned on the host by the uid root inside maps to');
    assert.notEqual(st.uid, 0);
    const report = JSON.parse(await h.ok(['inspect', '--json', 'rl1']));
    const layer = (n: string) => report.security.find((l: { layer: string }) => l.layer === n);
    assert.match(layer('user namespace').detail, /rootless/);
    assert.equal(layer('user namespace').observed, 'private');
    assert.match(layer('seccomp').observed, /Seccomp: 2/);
    assert.match(layer('no_new_privs').observed, /NoNewPrivs: 1/);
    if (report.limits.pids === null) {
      assert.equal(layer('cgroups').active, false, 'inspect says there is no cgroup');
      assert.match(report.limits.note, /no pids limit/);
      // the root of a subordinate range gets RLIMIT_NPROC instead (counted per uid)
      if (map[2]! > 1) assert.equal((await h.ok(['exec', 'rl1', '--', 'sh', '-c', 'ulimit -u'])).trim(), '1024');
    }
    // the sandbox's own tree is its root's (chowned once, from a user namespace of the user's)
    assert.equal((await h.ok(['exec', 'rl1', '--', 'stat', '-c', '%u:%g', '/etc', '/root', '/'])).trim().split('\n').join(' '), '0:0 0:0 0:0');
    assert.match(await h.ok(['logs', 'rl1']), /started/);
    await h.ok(['stop', '--time', '5', 'rl1']);
    assert.equal((JSON.parse(await h.ok(['list', '--json'])) as { name: string; status: string }[]).find((x) => x.name === 'rl1')?.status, 'stopped');
    assert.equal(existsSync(join(rt, 'rl1')), false, 'stop removed the runtime state');
    await h.ok(['delete', 'rl1']);
    assert.equal(existsSync(join(h.data, 'sandboxes', 'rl1')), false, 'delete removed the tree, files of the subordinate ids too');
    assert.deepEqual(readdirSync(join(h.data, 'trash')), []);
  });

  test('cgroup limits the user cannot have are refused by name; the missing pids limit is a warning', async (t) => {
    const probe = JSON.parse(await h.ok(['check', '--json']));
    const cg = probe.checks.find((c: { id: string }) => c.id === 'cgroups');
    if (cg.status === 'ok') return t.skip('this host delegates a cgroup to the user');
    const r = await h.moat(['create', 'big', '--memory', '256M']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--memory: cannot be set: cgroup limits need root/);
    assert.equal(existsSync(join(h.data, 'sandboxes', 'big')), false, 'nothing was made');
    const run = await h.moat(['run', '--rm', '--', 'true']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /moat: warn: pids: .* runs without the default limit of 1024 processes/);
  });

  test('`moat check` names every prerequisite', async () => {
    const r = await h.moat(['check']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const name of ['user.max_user_namespaces', 'kernel.unprivileged_userns_clone', 'kernel.apparmor_restrict_unprivileged_userns', 'newuidmap and newgidmap', 'subordinate ids', 'cgroup limits'])
      assert.ok(r.stdout.includes(name), `check names ${name}:\n${r.stdout}`);
    assert.match(r.stdout, /rootless/);
  });
});

describe('moat rootless: a uid without subordinate ids', { skip }, () => {
  let h: UserHome;
  before(() => (h = new UserHome(BARE_UID, BARE_UID)));
  after(async () => h?.cleanup());

  test('`moat check` warns and gives the usermod command', async () => {
    const r = await h.moat(['check', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout).checks.find((x: { id: string }) => x.id === 'subids');
    assert.equal(c.status, 'warn');
    assert.match(c.detail, new RegExp(`\`${BARE_UID}\` has no subordinate uids`));
    assert.match(c.fix, new RegExp(`^usermod --add-subuids \\d+-\\d+ --add-subgids \\d+-\\d+ ${BARE_UID}`));
  });

  test('its sandbox maps that uid alone, to root, and says so', async () => {
    const r = await h.moat(['run', '--rm', '--template', 'busybox', '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    const [uid, map] = r.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.deepEqual(mapOf(map!)[0], [0, BARE_UID, 1]);
    assert.match(r.stderr, /only your own uid 54321 is mapped \((uid 54321 has no passwd entry|`54321` has no subordinate uids)/);
  });
});

describe('moat rootless: a user whose range holds several slices of 65536', { skip }, () => {
  // the user's range as /etc/subuid and /etc/subgid show it to moat and to newuidmap: a file of
  // the test's own, bound over both in a private mount namespace of each command (the host's
  // files are not touched)
  const fake = { start: 300000, count: 4 * 65536 };
  let h: UserHome, dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'moat-rl-subids-'));
    chmodSync(dir, 0o755);
    const file = join(dir, 'subids');
    writeFileSync(file, `${USER}:${fake.start}:${fake.count}\n`, { mode: 0o644 });
    h = new UserHome(user!.uid, user!.gid, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/subuid && mount --bind "$0" /etc/subgid && exec "$@"', file]);
  });
  after(async () => {
    await h?.cleanup();
    if (dir) removeTree(dir);
  });

  test('each sandbox gets a slice of its own, given back at delete', async () => {
    const check = JSON.parse(await h.ok(['check', '--json'])).checks.find((c: { id: string }) => c.id === 'subids');
    assert.equal(check.status, 'ok');
    assert.match(check.detail, /4 sandboxes with 65536 ids each/);
    for (const n of ['s1', 's2']) {
      await h.ok(['create', n, '--template', 'busybox']);
      await h.ok(['start', n]);
    }
    const m1 = mapOf(await h.ok(['exec', 's1', '--', 'cat', '/proc/self/uid_map']))[0]!;
    const m2 = mapOf(await h.ok(['exec', 's2', '--', 'cat', '/proc/self/uid_map']))[0]!;
    for (const m of [m1, m2]) {
      assert.equal(m[2], 65536);
      assert.ok(m[1]! >= fake.start && m[1]! + m[2]! <= fake.start + fake.count, `slice ${m[1]} within the user's range`);
    }
    assert.ok(m1[1]! + 65536 <= m2[1]! || m2[1]! + 65536 <= m1[1]!, `slices ${m1[1]} and ${m2[1]} are disjoint`);
    await h.ok(['exec', 's2', '--', 'touch', '/root/made']);
    assert.equal(statSync(join(h.data, 'sandboxes', 's2', 'rootfs', 'root', 'made')).uid, m2[1]);
    const report = JSON.parse(await h.ok(['inspect', '--json', 's1']));
    assert.match(report.security.find((l: { layer: string }) => l.layer === 'user namespace').detail, /private slice/);
    const pool = join(h.data, 'idmap.json');
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(pool, 'utf8'))).sort(), [`${h.data}:s1`, `${h.data}:s2`]);
    for (const n of ['s1', 's2']) await h.ok(['delete', '--force', n]);
    assert.deepEqual(JSON.parse(readFileSync(pool, 'utf8')), {}, 'the slices are free again');
    assert.deepEqual(readdirSync(join(h.data, 'sandboxes')), []);
  });
});

// Issue 9's rootless case: a user's sandbox publishes a port through pasta (the default
// network once a port is published, for a user), reachable from the host namespace. The
// "host" is a network namespace the test makes, never the root one.
describe('moat rootless: a published port through pasta', { skip: skip || (spawnSync('pasta', ['--version'], { stdio: 'ignore' }).status !== 0 ? 'needs pasta (Debian: passt)' : false) }, () => {
  let net: TestNetns;
  let h: UserHome;
  // /dev/net/tun may be 0600 on a host (as on this test machine); Debian's udev makes it
  // 0666. Rather than change the host's node, moat runs in a private mount namespace where a
  // 0666 node of the same device is bound over it.
  let tunDir: string;
  before(() => {
    net = new TestNetns();
    tunDir = mkdtempSync(join(tmpdir(), 'moat-rl-tun-'));
    spawnSync('mknod', ['-m', '666', join(tunDir, 'tun'), 'c', '10', '200']);
    chmodSync(join(tunDir, 'tun'), 0o666);
    const wrap = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${join(tunDir, 'tun')} /dev/net/tun && exec "$@"`, 'sh'];
    h = new UserHome(user!.uid, user!.gid, [...net.wrap(net.host), ...wrap]);
  });
  after(async () => {
    await h?.cleanup();
    net?.cleanup();
    if (tunDir) rmSync(tunDir, { recursive: true, force: true });
  });

  test('--publish alone picks pasta; the page is served to the host namespace; nothing is left', async () => {
    const fetch = () => spawnSync('nsenter', [`--net=/run/netns/${net.host}`, 'busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:18095/'], { encoding: 'utf8', timeout: 5000 }); // no -T: busybox 1.35's wget crashes with it
    await h.ok(['create', 'web', '--template', 'busybox', '-p', '18095:80', '--', 'sh', '-c', 'mkdir -p /tmp/www && echo "page of $(hostname) as $(id -u)" > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www']);
    assert.match(await h.ok(['inspect', 'web']), /pasta/);
    await h.ok(['start', 'web']);
    await waitFor(() => fetch().status === 0, 15_000, 'pasta forwards 18095');
    assert.equal(fetch().stdout, 'page of web as 0\n');
    await h.ok(['delete', '--force', 'web']);
    assert.notEqual(fetch().status, 0, 'the forward went with the sandbox');
    // (delete stops pasta; one SIGKILLed after the grace may still be exiting)
    const left = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(h.data); } catch { return false; }
    });
    await waitFor(() => left().length === 0, 5000, `no pasta process of the sandbox is left (${left().join(' ')})`);
  });
});
