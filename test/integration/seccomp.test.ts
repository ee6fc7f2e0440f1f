// Seccomp in real containers: moat's compiled filters, loaded by the helper, judged from inside
// by the probe (errno, ENOSYS for new numbers, kill, trap, log, notify with an agent).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, probePath } from '../lib/bundle.js';
import { Scratch, parseProbe, uniqueId } from '../lib/oci.js';
import { defaultSeccompProfile } from '../../src/policy/seccomp/index.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';

const NR = { getpid: 39, uname: 63, acct: 163, kexec_load: 246, clone: 56, clone3: 435, unshare: 272 };
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const SIGCHLD = 17;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const EOPNOTSUPP = 95;

/** The probe's output lines, one JSON document per command. */
const lines = (stdout: string): any[] => stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

/** Runs several probe commands in one container (through busybox sh), for speed. */
async function probeMany(s: Scratch, config: (c: any) => void, cmds: string[][]): Promise<any[]> {
  const script = cmds.map((c) => ['/probe', ...c].join(' ')).join('; ');
  const r = await s.run(config, ['/bin/sh', '-c', script]);
  assert.equal(r.code, 0, `sh -c ${script}: ${r.stderr}`);
  const out = lines(r.stdout);
  assert.equal(out.length, cmds.length, `one line per command: ${r.stdout}`);
  return out;
}

/** The default profile for the container's capabilities, with the denial errno made
 * distinctive, so that a denial is told apart from the kernel's own EPERM. */
function defaultProfileWith(caps: string[], errnoRet?: number): any {
  const p = defaultSeccompProfile(caps) as any;
  return errnoRet === undefined ? p : { ...p, defaultErrnoRet: errnoRet };
}

/** What this kernel does with compat calls outside any container (no filter). */
function hostCompat(): { int80: boolean; x32: boolean } {
  const p = JSON.parse(execFileSync(probePath, ['compat32'], { encoding: 'utf8' }).trim());
  return { int80: p.int80.supported, x32: p.x32.supported };
}

describe('seccomp in containers', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('a denied syscall returns the profile\'s errno; others work (default action allow)', async () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['uname'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      ],
    };
    const [pid, uname, uid] = await probeMany(s, (c) => (c.linux.seccomp = profile), [
      ['syscall-name', 'getpid'], ['syscall-name', 'uname', 'null'], ['syscall-name', 'getuid'],
    ]);
    assert.equal(pid.errno, 'ENOSYS');
    assert.equal(uname.errno, 'EACCES');
    assert.equal(uid.ok, true);
    assert.equal(uid.ret, 0);
  });

  test('the default profile denies mount, keyctl, namespaces by unshare and clone; allows the harmless forms', async () => {
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const [mount, keyctl, unshareUser, unshareFs, cloneNs, pid] = await probeMany(s, (c) => (c.linux.seccomp = defaultProfileWith(caps, EOPNOTSUPP)), [
      ['syscall-name', 'mount', 'str:none', 'str:/tmp', 'str:tmpfs', '0', 'null'],
      ['syscall-name', 'keyctl', '0', '0'],
      // unprivileged user namespaces are allowed by this kernel: only the filter stops it
      ['syscall-name', 'unshare', String(CLONE_NEWUSER)],
      ['syscall-name', 'unshare', String(0x200)], // CLONE_FS: no namespace
      ['syscall-name', 'clone', String(CLONE_NEWNS | CLONE_NEWUSER | SIGCHLD), '0'],
      ['syscall-name', 'getpid'],
    ]);
    for (const r of [mount, keyctl, unshareUser, cloneNs]) assert.equal(r.errno, 'EOPNOTSUPP', `${r.name}: ${JSON.stringify(r)}`);
    assert.equal(unshareFs.ok, true);
    assert.equal(pid.ret, 1);
    // and as shipped, the denial is EPERM
    const [m] = await probeMany(s, (c) => (c.linux.seccomp = defaultProfileWith(caps)), [['syscall-name', 'unshare', String(CLONE_NEWUSER)]]);
    assert.equal(m.errno, 'EPERM');
  });

  test('unknown new syscall numbers get ENOSYS, known-but-unlisted ones the profile\'s errno', async () => {
    const caps = ['CAP_KILL'];
    const [newer, gap, acct, kexec] = await probeMany(s, (c) => (c.linux.seccomp = defaultProfileWith(caps, EOPNOTSUPP)), [
      ['syscall', '1000'], // above the x86_64 table
      ['syscall', '400'], // unassigned, inside the table (335..423)
      ['syscall', String(NR.acct), 'null'],
      ['syscall', String(NR.kexec_load), '0', '0', '0', '0'],
    ]);
    assert.equal(newer.errno, 'ENOSYS');
    assert.equal(gap.errno, 'ENOSYS');
    assert.equal(acct.errno, 'EOPNOTSUPP');
    assert.equal(kexec.errno, 'EOPNOTSUPP');
  });

  test('clone3 gets ENOSYS under the default profile, so libc falls back to clone and fork works', async () => {
    const [c3, fork] = await probeMany(s, (c) => (c.linux.seccomp = defaultProfileWith(c.process.capabilities.bounding)), [
      ['syscall-name', 'clone3', 'null', '0'],
      ['fork', '3'],
    ]);
    assert.equal(c3.errno, 'ENOSYS');
    assert.equal(fork.created, 3);
    assert.equal(fork.ok, true);
  });

  test('SCMP_ACT_KILL_PROCESS and SCMP_ACT_KILL end the process with SIGSYS (exit 128+31)', async () => {
    for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL']) {
      const r = await s.run((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action }] }), ['/probe', 'syscall-name', 'getpid']);
      assert.equal(r.code, 159, `${action}: ${r.stderr}`);
      assert.equal(r.stdout, '', `${action}: nothing printed after the call`);
    }
  });

  test('SCMP_ACT_TRAP delivers SIGSYS with SYS_SECCOMP, the syscall and the arch', async () => {
    // the probe alone: busybox sh calls getpid itself
    const t = await s.probe(['sigsys', String(NR.getpid)], (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_TRAP' }] }));
    assert.equal(t.trapped, true);
    assert.equal(t.code, 1); // SYS_SECCOMP
    assert.equal(t.syscall, NR.getpid);
    assert.equal(t.arch, AUDIT_ARCH_X86_64);
    // without a handler, the trap kills the process (pid 1 of its namespace, too)
    const r = await s.run((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_TRAP' }] }), ['/probe', 'syscall-name', 'getpid']);
    assert.equal(r.code, 159);
  });

  test('SCMP_ACT_LOG allows the call', async () => {
    const [p] = await probeMany(s, (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_LOG' }] }), [['syscall-name', 'getpid']]);
    assert.equal(p.ok, true);
    assert.equal(p.ret, 1);
  });

  test('an x86 (int 0x80) or x32 call is judged by its own ABI\'s rules', async (t) => {
    const host = hostCompat();
    if (!host.int80 && !host.x32) {
      t.skip('this kernel has neither the i386 (int 0x80 faults outside containers too) nor the x32 syscall ABI; the emulator and libseccomp tests carry the proof for the compat ABIs');
      return;
    }
    // getpid is denied on x86_64 only; x86 and x32 have their own rules (allow all)
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
    };
    const [c] = await probeMany(s, (cfg) => (cfg.linux.seccomp = profile), [['compat32']]);
    // a native getpid under the same profile is denied; compat calls reach their own rules
    // for getpid (also named getpid there, and so denied too: a rule names the syscall on
    // every listed ABI, by that ABI's number)
    if (host.int80) assert.equal(c.int80.errno, 'ENOSYS', 'i386 getpid (20) is denied by its own number');
    if (host.x32) assert.equal(c.x32.errno, 'ENOSYS', 'x32 getpid is denied by its own number');
    // an ABI the profile does not list is a bad arch: the process is killed
    const r = await s.run((cfg) => (cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['acct'], action: 'SCMP_ACT_ERRNO' }] }), ['/probe', 'compat32']);
    assert.equal(r.code, 159, 'unlisted compat ABI kills');
  });

  describe('SCMP_ACT_NOTIFY', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'moat-agent-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** Starts `probe seccomp-agent` on a fresh socket; resolves with its parsed output. */
    async function startAgent(nr: number, value: number): Promise<{ sock: string; done: Promise<any> }> {
      const sock = join(dir, `${uniqueId('a')}.sock`);
      const agent = spawn(probePath, ['seccomp-agent', sock, String(nr), String(value)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      agent.stdout.on('data', (d) => (out += d));
      agent.stderr.on('data', (d) => (err += d));
      const timer = setTimeout(() => agent.kill('SIGKILL'), 60_000);
      const done = new Promise<any>((resolve, reject) => agent.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(parseProbe(out));
        else reject(new Error(`agent exited with ${code}: ${err}`));
      }));
      done.catch(() => {});
      for (let i = 0; !existsSync(sock); i++) {
        if (i > 1000) throw new Error(`agent did not listen on ${sock}: ${err}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return { sock, done };
    }

    const notifyProfile = (sock: string, names: string[]) => ({
      defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'moat-test-metadata',
      syscalls: [{ names, action: 'SCMP_ACT_NOTIFY' }],
    });

    test('the agent gets the listener fd with the containerProcessState and answers the call', async () => {
      const agent = await startAgent(NR.getpid, 4242);
      const r = await s.run((c) => (c.linux.seccomp = notifyProfile(agent.sock, ['getpid'])), ['/probe', 'syscall-name', 'getpid']);
      assert.equal(r.code, 0, r.stderr);
      const inside = parseProbe(r.stdout);
      assert.equal(inside.ret, 4242, 'the container saw the agent\'s answer');
      const a = await agent.done;
      assert.equal(a.fds, 1);
      const st = JSON.parse(a.state);
      assert.equal(st.ociVersion, '1.2.0');
      assert.deepEqual(st.fds, ['seccompFd']);
      assert.equal(st.metadata, 'moat-test-metadata');
      assert.equal(st.pid, a.pid, 'the state\'s pid is the process that made the call (host view)');
      assert.equal(st.state.id, r.id);
      assert.equal(st.state.status, 'creating');
      assert.equal(st.state.pid, st.pid);
      assert.ok(st.state.bundle.startsWith(tmpdir()));
      assert.equal(a.arch, AUDIT_ARCH_X86_64);
    });

    test('an agent\'s error answer is the call\'s errno; create then start works too', async () => {
      const agent = await startAgent(NR.uname, -13);
      const b = s.bundle((c) => {
        c.process.args = ['/probe', 'syscall-name', 'uname', 'null'];
        c.linux.seccomp = notifyProfile(agent.sock, ['uname']);
      });
      const id = uniqueId('n');
      const cr = await s.cli(['create', '-b', b.dir, id]);
      assert.equal(cr.code, 0, cr.stderr);
      const st = await s.cli(['start', id]);
      assert.equal(st.code, 0, st.stderr);
      const a = await agent.done;
      assert.equal(a.nr, NR.uname);
      assert.equal(JSON.parse(a.state).state.id, id);
      await s.cli(['delete', '--force', id]);
    });

    test('without NO_NEW_PRIVS the filter loads before the credential ops, which the agent lets through', async () => {
      const agent = await startAgent(NR.getpid, 77);
      const r = await s.run((c) => {
        c.process.noNewPrivileges = false;
        c.process.user = { uid: 1000, gid: 1000 };
        // setresuid and capset are made by the helper after the load and before exec
        c.linux.seccomp = notifyProfile(agent.sock, ['getpid', 'setresuid', 'capset']);
      }, ['/probe', 'syscall-name', 'getpid']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseProbe(r.stdout).ret, 77);
      await agent.done;
    });

    test('a NOTIFY rule on sendmsg is refused: the runtime sends the listener fd with it', async () => {
      const r = await s.run((c) => (c.linux.seccomp = notifyProfile(join(dir, 'none.sock'), ['sendmsg'])), ['/probe', 'id']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /linux\.seccomp\.syscalls\[0\]\.names\[0\].*sendmsg/);
    });
  });
});
