// Rootless: an ordinary user (`moat-rootless`, made by `.ci/run` with `useradd -m`) runs
// `moat-oci spec --rootless` and a container end to end: root inside is the user outside, no
// cgroup is made, cgroup limits are refused by name, multi-id maps go through newuidmap.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, isRoot, makeRootfs, parseProbe, removeTree, repoRoot, runThroughFiles, timeScale, lookupTestUser, ROOTLESS_TEST_USER } from '../lib/bundle.js';
import { capabilityMask } from '../../src/policy/caps/caps.js';
import { subordinateRanges } from '../../src/runtime/rootless.js';

const USER = ROOTLESS_TEST_USER;


const user = isRoot() ? lookupTestUser() : undefined;

function skipReason(): string | false {
  if (!isRoot()) return 'the rootless test needs root to switch to the test user';
  if (!user) return `no user \`${USER}\` (create it with \`useradd -m ${USER}\`)`;
  if (spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status !== 0) return 'runuser (util-linux) is missing';
  const max = Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim());
  if (!(max > 0)) return 'user namespaces are disabled (sysctl user.max_user_namespaces=0)';
  // the repository (the CLI, dist/, the helper) must be readable and executable by the user
  const r = spawnSync('runuser', ['-u', USER, '--', process.execPath, cliPath, '--version'], { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) return `\`${USER}\` cannot run ${cliPath} (is ${repoRoot} readable and searchable by others?): ${(r.stderr || r.stdout).trim()}`;
  const h = spawnSync('runuser', ['-u', USER, '--', 'test', '-x', join(repoRoot, 'native', 'moat-helper')]);
  if (h.status !== 0) return `\`${USER}\` cannot execute ${join(repoRoot, 'native', 'moat-helper')}`;
  return false;
}

const skip = skipReason();

interface Result { code: number | null; stdout: string; stderr: string }

/** Runs `moat-oci --root <root> ...args` as the test user, in `cwd`; output through files (a
 * detached container keeps the CLI's stdio open). */
function asUser(root: string, args: string[], cwd: string): Promise<Result> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/', LANG: 'C' };
  return runThroughFiles(['runuser', '-u', USER, '--', process.execPath, cliPath, '--root', root, ...args], { cwd, env, timeoutMs: 30_000 * timeScale });
}

function chownTree(path: string): void {
  const r = spawnSync('chown', ['-R', `${user!.uid}:${user!.gid}`, path]);
  if (r.status !== 0) throw new Error(`chown -R ${path} failed`);
}

describe('rootless: an ordinary user runs containers', { skip }, () => {
  let top: string, root: string;
  const bundles: string[] = [];
  let n = 0;

  before(() => {
    top = mkdtempSync(join(tmpdir(), 'moat-rootless-'));
    chmodSync(top, 0o755);
    root = join(top, 'state');
    mkdirSync(root, { mode: 0o700 });
    chownSync(root, user!.uid, user!.gid);
  });

  after(async () => {
    if (!top) return;
    for (const id of existsSync(root) ? spawnSync('ls', [root], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean) : [])
      await asUser(root, ['delete', '--force', id], '/');
    for (const b of bundles) removeTree(b);
    removeTree(top);
  });

  /** A bundle owned by the user with the config `spec --rootless` wrote, edited by `edit`. */
  async function bundle(edit: (c: any) => void): Promise<string> {
    const dir = join(top, `b${++n}`);
    mkdirSync(dir, { mode: 0o755 });
    bundles.push(dir);
    makeRootfs(join(dir, 'rootfs'));
    chownTree(dir);
    const r = await asUser(root, ['spec', '--rootless'], dir);
    assert.equal(r.code, 0, r.stderr);
    const path = join(dir, 'config.json');
    const c = JSON.parse(readFileSync(path, 'utf8'));
    c.process.terminal = false;
    edit(c);
    unlinkSync(path);
    writeFileSync(path, JSON.stringify(c));
    chownSync(path, user!.uid, user!.gid);
    return dir;
  }

  test('`spec --rootless` + `run`: root inside is the user outside, with the default caps and no_new_privs', async () => {
    const dir = await bundle((c) => {
      c.root.readonly = false;
      c.process.args = ['/bin/sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; /probe id; /probe status; echo hi > /tmp/made-inside'];
    });
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(spec.linux.resources, undefined, 'the rootless default asks no cgroup limits');
    const r = await asUser(root, ['run', '-b', dir, 'rl-run'], dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines[0]!.trim().split(/\s+/).map(Number), [0, user!.uid, 1]);
    assert.deepEqual(lines[1]!.trim().split(/\s+/).map(Number), [0, user!.gid, 1]);
    const id = JSON.parse(lines[2]!);
    assert.equal(id.uid, 0);
    assert.equal(id.gid, 0);
    const status = JSON.parse(lines[3]!);
    const caps = capabilityMask(spec.process.capabilities.effective).toString(16).padStart(16, '0');
    assert.equal(status.CapEff, caps);
    assert.equal(status.NoNewPrivs, 1);
    const st = statSync(join(dir, 'rootfs', 'tmp', 'made-inside'));
    assert.equal(st.uid, user!.uid);
    assert.equal(st.gid, user!.gid);
    assert.equal(existsSync(join(root, 'rl-run')), false, 'run deletes its state');
  });

  test('create, start, state, kill and delete work for the user, with no cgroup', async () => {
    const dir = await bundle((c) => { c.process.args = ['/probe', 'sleep', '60']; });
    const id = 'rl-life';
    let r = await asUser(root, ['create', '-b', dir, id], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(join(root, id)).uid, user!.uid, 'the state is the user\'s');
    assert.equal(statSync(join(root, id, 'exec.fifo')).uid, user!.uid, 'the fifo is the user\'s');
    r = await asUser(root, ['state', id], dir);
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout);
    assert.equal(created.status, 'created');
    assert.equal(JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroup, undefined);
    r = await asUser(root, ['start', id], dir);
    assert.equal(r.code, 0, r.stderr);
    r = await asUser(root, ['state', id], dir);
    assert.equal(JSON.parse(r.stdout).status, 'running');
    // exec joins the container; its user namespace denies setgroups, so groups are left alone
    r = await asUser(root, ['exec', id, '/probe', 'id'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!).uid, 0);
    r = await asUser(root, ['kill', id, 'KILL'], dir);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 100; i++) {
      r = await asUser(root, ['state', id], dir);
      if (JSON.parse(r.stdout).status === 'stopped') break;
      await new Promise((res) => setTimeout(res, 50 * timeScale));
    }
    assert.equal(JSON.parse(r.stdout).status, 'stopped');
    r = await asUser(root, ['delete', id], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(root, id)), false);
  });

  test('a cgroup limit is refused by name, and nothing is left behind', async () => {
    const dir = await bundle((c) => { c.linux.resources = { memory: { limit: 64 * 1024 * 1024 } }; });
    const r = await asUser(root, ['run', '-b', dir, 'rl-mem'], dir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /linux\.resources\.memory\.limit: cgroup limits need root or a delegated cgroup/);
    assert.equal(existsSync(join(root, 'rl-mem')), false);
  });

  test('a mapping of ids that are not the user\'s is refused by name', async () => {
    const dir = await bundle((c) => { c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }]; });
    const r = await asUser(root, ['run', '-b', dir, 'rl-notmine'], dir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /linux\.uidMappings(\[0\])?: /);
    assert.equal(existsSync(join(root, 'rl-notmine')), false);
  });

  test('a multi-id mapping of the user\'s subordinate ranges goes through newuidmap/newgidmap', async (t) => {
    const name = { name: USER, uid: user!.uid };
    const su = subordinateRanges('/etc/subuid', name)[0], sg = subordinateRanges('/etc/subgid', { name: USER, uid: user!.gid })[0];
    const tools = existsSync('/usr/bin/newuidmap') && existsSync('/usr/bin/newgidmap');
    const multi = (c: any) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: user!.uid, size: 1 }, { containerID: 1, hostID: su?.start ?? 100000, size: 1000 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: user!.gid, size: 1 }, { containerID: 1, hostID: sg?.start ?? 100000, size: 1000 }];
      c.root.readonly = false;
      c.process.user.additionalGids = [5];
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_CHOWN');
      c.process.args = ['/bin/sh', '-c', 'cat /proc/self/uid_map; /probe id; echo x > /tmp/by-root; chown 10:10 /tmp/by-root'];
    };
    const dir = await bundle(multi);
    const r = await asUser(root, ['run', '-b', dir, 'rl-multi'], dir);
    if (!tools || !su || !sg) {
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /linux\.(uid|gid)Mappings/);
      t.diagnostic(`refused as expected: ${tools ? `no subordinate ranges for ${USER}` : 'newuidmap/newgidmap missing (apt-get install uidmap)'}`);
      return;
    }
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines[0]!.trim().split(/\s+/).map(Number), [0, user!.uid, 1]);
    assert.deepEqual(lines[1]!.trim().split(/\s+/).map(Number), [1, su.start, 1000]);
    const id = parseProbe(lines[2]!);
    assert.equal(id.uid, 0);
    assert.deepEqual(id.groups, [5], 'supplementary groups work where newgidmap wrote the map');
    const st = statSync(join(dir, 'rootfs', 'tmp', 'by-root'));
    assert.equal(st.uid, su.start + 9, 'container uid 10 is the 10th id of the subordinate range');
  });
});
