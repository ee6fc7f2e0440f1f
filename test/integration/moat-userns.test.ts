// Issue 5 in sandboxes: each one has a private uid/gid range, and root in one cannot read
// another's files even when they are put in front of it (the seed's "help vs1 cheat").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, isStaticElf, probePath } from '../lib/bundle.js';
import { MoatScratch } from '../lib/moat.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/bin/busybox') || !isStaticElf('/bin/busybox') ? 'needs busybox-static' : false;

describe('moat: private id ranges (issue 5)', { skip }, () => {
  let s: MoatScratch;
  before(async () => {
    s = new MoatScratch();
    for (const vs of ['vs1', 'vs2']) {
      await s.ok(['create', vs, '--template', 'busybox']);
      await s.ok(['start', vs]);
    }
  });
  after(async () => s.cleanup());

  const uidMap = async (name: string) => (await s.ok(['exec', name, '--', 'cat', '/proc/self/uid_map'])).trim().split(/\s+/).map(Number);

  test('each sandbox maps root to its own range; the ranges do not overlap', async () => {
    const [c1, h1, n1] = await uidMap('vs1');
    const [c2, h2, n2] = await uidMap('vs2');
    assert.equal(c1, 0);
    assert.equal(c2, 0);
    assert.equal(n1, 65536);
    assert.ok(h1! > 0 && h2! > 0, 'root inside is not root outside');
    assert.ok(h1! + n1! <= h2! || h2! + n2! <= h1!, `ranges ${h1}+${n1} and ${h2}+${n2} overlap`);
  });

  test('a file made by root inside is owned on the host by the sandbox\'s range', async () => {
    await s.ok(['exec', 'vs1', '--', 'sh', '-c', 'echo mine > /root/made-by-vs1']);
    const [, host] = await uidMap('vs1');
    assert.equal(statSync(join(s.data, 'sandboxes/vs1/rootfs/root/made-by-vs1')).uid, host);
  });

  test('root in one sandbox cannot read another\'s private file, even bound in front of it', async () => {
    await s.ok(['exec', 'vs2', '--', 'sh', '-c', 'echo secret > /root/secret && chmod 600 /root/secret']);
    const vs2root = join(s.data, 'sandboxes/vs2/rootfs/root');
    await s.ok(['create', 'cheat', '--template', 'busybox', '--volume', `${vs2root}:/peek:ro`]);
    await s.ok(['start', 'cheat']);
    const r = await s.moat(['exec', 'cheat', '--', 'cat', '/peek/secret']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied/);
    // the file belongs to vs2's root on the host, an id the cheat's root does not have
    const [, vs2host] = await uidMap('vs2');
    const [, cheathost] = await uidMap('cheat');
    assert.equal(statSync(join(vs2root, 'secret')).uid, vs2host);
    assert.notEqual(cheathost, vs2host);
    // and vs2's own root reads it through the very same bind
    await s.ok(['create', 'owner', '--template', 'busybox', '--volume', `${vs2root}:/peek:ro`]);
    await s.ok(['start', 'owner']);
    assert.notEqual((await s.moat(['exec', 'owner', '--', 'cat', '/peek/secret'])).code, 0, 'a third sandbox cannot either');
  });

  test('a process of one sandbox cannot signal, ptrace or read another\'s processes, even escaped into the host\'s pid and mount namespaces', async (t) => {
    // the two sandboxes' first processes, as the host sees them
    const list = JSON.parse(await s.ok(['list', '--json'])) as { name: string; pid: number }[];
    const pidOf = (n: string) => list.find((x) => x.name === n)!.pid;
    const a = pidOf('vs1'), b = pidOf('vs2');
    await s.ok(['exec', 'vs2', '--', 'sh', '-c', 'echo vs2-private > /root/proc-secret && chmod 600 /root/proc-secret']);
    // a process with a sandbox's credentials (root of its user namespace, with every
    // capability there: more than the sandbox itself keeps) but the host's view of pids and
    // files, as if it had escaped every other namespace: only the user namespace stands
    // (a copy the sandbox's uid can reach: the checkout may sit in a dir only root can search)
    const probeDir = mkdtempSync(join(tmpdir(), 'moat-probe-'));
    chmodSync(probeDir, 0o755);
    const probe = join(probeDir, 'probe');
    copyFileSync(probePath, probe);
    chmodSync(probe, 0o755);
    t.after(() => rmSync(probeDir, { recursive: true, force: true }));
    const as = (sandboxPid: number, args: string[]) => {
      const r = spawnSync('nsenter', [`--target=${sandboxPid}`, '--user', '--', probe, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { ok: boolean; errno: string | null; content?: string };
    };
    const PTRACE_SEIZE = String(0x4206);
    const secret = `/proc/${b}/root/root/proc-secret`;
    // from vs1: refused
    assert.equal(as(a, ['kill', String(b), '0']).errno, 'EPERM', 'vs1 signals vs2');
    assert.equal(as(a, ['kill', String(b), 'KILL']).errno, 'EPERM', 'vs1 kills vs2');
    assert.equal(as(a, ['syscall-name', 'ptrace', PTRACE_SEIZE, String(b), '0', '0']).errno, 'EPERM', 'vs1 ptraces vs2');
    assert.equal(as(a, ['read', secret]).errno, 'EACCES', 'vs1 reads vs2\'s files through /proc/PID/root');
    // the same from vs2's own user namespace succeeds: it is the namespace that refuses
    assert.equal(as(b, ['kill', String(b), '0']).ok, true);
    assert.equal(as(b, ['syscall-name', 'ptrace', PTRACE_SEIZE, String(b), '0', '0']).ok, true);
    assert.equal(as(b, ['read', secret]).content, 'vs2-private\n');
    assert.equal(JSON.parse(await s.ok(['list', '--json'])).find((x: { name: string }) => x.name === 'vs2').pid, b, 'vs2 still runs');
  });

  test('a deleted sandbox\'s range is free again', async () => {
    const pool = JSON.parse(readFileSync(process.env.MOAT_IDMAP_POOL ?? '/var/lib/moat/idmap.json', 'utf8'));
    const key = `${s.data}:vs1`;
    assert.ok(pool[key] !== undefined);
    await s.ok(['delete', '--force', 'vs1']);
    const after = JSON.parse(readFileSync(process.env.MOAT_IDMAP_POOL ?? '/var/lib/moat/idmap.json', 'utf8'));
    assert.equal(after[key], undefined);
  });
});
