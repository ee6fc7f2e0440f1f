// Landlock (issue 6) in real containers. Every escape is tried twice, with the annotation
// `run.moat.landlock` on and off: on, the access fails; off, the same access succeeds, so the
// test proves this layer and not another one. The steps are made by `ll`, a small static
// program compiled here (one syscall per step, one JSON line per step).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary, isRoot, runCli } from '../lib/bundle.js';
import { Scratch, uniqueId } from '../lib/oci.js';
import { encodeLandlock, LANDLOCK_ANNOTATION } from '../../src/policy/landlock/index.js';
import { LANDLOCK_CACHE, probeLandlock } from '../../src/runtime/landlock.js';
import { runHelper } from '../../src/runtime/helper-proc.js';

const host = isRoot() ? probeLandlock() : { abi: 0, reason: 'not root' };
const skip = !isRoot() ? 'integration tests create containers and need root'
  : !hasBinary('gcc') ? 'gcc is needed to build the test program'
  : host.abi < 6 ? `these tests need Landlock ABI 6 or later; this kernel: ${host.abi || host.reason}` : false;

const LL_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <signal.h>

static void report(const char *step, const char *arg, int r) {
  if (r >= 0) printf("{\"step\":\"%s\",\"arg\":\"%s\",\"ok\":true}\n", step, arg);
  else printf("{\"step\":\"%s\",\"arg\":\"%s\",\"ok\":false,\"errno\":\"%s\"}\n", step, arg, strerrorname_np(errno));
  fflush(stdout);
}

static int tcp(int port, int do_bind) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
  a.sin_addr.s_addr = htonl(do_bind ? INADDR_ANY : INADDR_LOOPBACK);
  if (do_bind) return bind(s, (struct sockaddr *)&a, sizeof a) < 0 ? -1 : listen(s, 4);
  return connect(s, (struct sockaddr *)&a, sizeof a);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *c = argv[i];
    if (!strcmp(c, "openat") && i + 2 < argc) { report(c, argv[i + 2], openat(atoi(argv[i + 1]), argv[i + 2], O_RDONLY)); i += 2; }
    else if (!strcmp(c, "open") && i + 1 < argc) { report(c, argv[i + 1], open(argv[i + 1], O_RDONLY)); i++; }
    else if (!strcmp(c, "kill") && i + 2 < argc) { report(c, argv[i + 1], kill(atoi(argv[i + 1]), atoi(argv[i + 2]))); i += 2; }
    else if (!strcmp(c, "uconnect") && i + 1 < argc) {
      struct sockaddr_un a = { .sun_family = AF_UNIX };
      size_t n = strlen(argv[++i]);
      memcpy(a.sun_path + 1, argv[i], n);
      int s = socket(AF_UNIX, SOCK_STREAM, 0);
      /* the full length: Node binds abstract names padded with NULs to sun_path's size */
      report(c, argv[i], connect(s, (struct sockaddr *)&a, sizeof a));
    }
    else if (!strcmp(c, "bind") && i + 1 < argc) { report(c, argv[i + 1], tcp(atoi(argv[i + 1]), 1)); i++; }
    else if (!strcmp(c, "connect") && i + 1 < argc) { report(c, argv[i + 1], tcp(atoi(argv[i + 1]), 0)); i++; }
    else if (!strcmp(c, "lo-up")) {
      struct ifreq r;
      memset(&r, 0, sizeof r);
      strcpy(r.ifr_name, "lo");
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      int ok = ioctl(s, SIOCGIFFLAGS, &r);
      if (ok == 0) { r.ifr_flags |= IFF_UP; ok = ioctl(s, SIOCSIFFLAGS, &r); }
      report(c, "lo", ok);
    }
    else { fprintf(stderr, "ll: bad step %s\n", c); return 2; }
  }
  return 0;
}
`;

interface Step { step: string; arg: string; ok: boolean; errno?: string }

const steps = (stdout: string): Step[] => stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Step);
const SIGUSR1 = 10;

/** Runs the CLI with extra fds from this process at 3, 4, ... (for --preserve-fds). */
const cliWithFds = (root: string, args: string[], extra: number[]) => runCli(['--root', root, ...args], { extraFds: extra });

/** A host process as `nobody`, so that the container's `nobody` may signal and inspect it
 * as far as uids and capabilities go: only Landlock stands in the way. */
function hostSleeper(): ChildProcess {
  return spawn('/bin/sleep', ['60'], { stdio: 'ignore', uid: 65534, gid: 65534 });
}

const exited = (p: ChildProcess) => new Promise<string | null>((res) => (p.exitCode !== null || p.signalCode !== null ? res(p.signalCode) : p.on('exit', (_c, sig) => res(sig))));

describe('landlock', { skip }, () => {
  let s: Scratch;
  let llDir: string;
  before(() => {
    s = new Scratch();
    llDir = mkdtempSync(join(tmpdir(), 'moat-ll-'));
    writeFileSync(join(llDir, 'll.c'), LL_C);
    execFileSync('gcc', ['-static', '-O1', '-o', join(llDir, 'll'), join(llDir, 'll.c')]);
  });
  after(async () => {
    await s.cleanup();
    rmSync(llDir, { recursive: true, force: true });
  });

  /** A bundle with `ll` at /ll and the annotation set to `mode` (undefined: absent). */
  const bundle = (mode: string | undefined, config: (c: any) => void = () => {}) => {
    const b = s.bundle((c) => {
      if (mode !== undefined) c.annotations = { [LANDLOCK_ANNOTATION]: mode };
      config(c);
    });
    copyFileSync(join(llDir, 'll'), join(b.rootfs, 'll'));
    chmodSync(join(b.rootfs, 'll'), 0o755);
    return b;
  };

  test('CVE-2024-21626 shape: a host directory fd handed to the container opens nothing with Landlock on', async () => {
    const hostDir = openSync('/', 'r');
    try {
      for (const mode of ['on', 'off']) {
        const b = bundle(mode, (c) => (c.process.args = ['/ll', 'openat', '3', 'etc/passwd', 'openat', '3', '.']));
        const r = await cliWithFds(s.state.root, ['run', '--preserve-fds', '1', '-b', b.dir, uniqueId(`ll21626-${mode}`)], [hostDir]);
        assert.equal(r.code, 0, r.stderr);
        const [file, dir] = steps(r.stdout);
        if (mode === 'on') {
          assert.deepEqual([file!.ok, file!.errno], [false, 'EACCES'], 'the host /etc/passwd is out of reach through fd 3');
          assert.deepEqual([dir!.ok, dir!.errno], [false, 'EACCES'], 'so is the host root directory itself');
        } else {
          assert.ok(file!.ok && dir!.ok, `without Landlock the fd is a way out: ${r.stdout}`);
        }
      }
    } finally {
      closeSync(hostDir);
    }
  });

  test('a process started by `exec` gets an equal domain: a passed host fd opens nothing', async () => {
    const hostDir = openSync('/', 'r');
    try {
      for (const mode of ['on', 'off']) {
        const b = bundle(mode, (c) => (c.process.args = ['/bin/sleep', '60']));
        const id = uniqueId(`llexec-${mode}`);
        assert.equal((await s.cli(['run', '-d', '-b', b.dir, id])).code, 0);
        const r = await cliWithFds(s.state.root, ['exec', '--preserve-fds', '1', id, '/ll', 'openat', '3', 'etc/passwd'], [hostDir]);
        assert.equal(r.code, 0, r.stderr);
        const [file] = steps(r.stdout);
        assert.equal(file!.ok, mode === 'off', `${mode}: ${r.stdout}`);
        if (mode === 'on') assert.equal(file!.errno, 'EACCES');
        // ordinary work still runs in the exec'd process
        const sh = await s.cli(['exec', id, '/bin/sh', '-c', 'echo a | cat > /dev/null && grep -q Name /proc/self/status && echo ok']);
        assert.equal(sh.stdout.trim(), 'ok', sh.stderr);
        await s.cli(['delete', '-f', id]);
      }
    } finally {
      closeSync(hostDir);
    }
  });

  test('with the host pid namespace shared, a host process can be neither signalled nor entered through /proc/<pid>/root', async () => {
    for (const mode of ['on', 'off']) {
      const sleeper = hostSleeper();
      try {
        await new Promise((res) => sleeper.once('spawn', res));
        const pid = sleeper.pid!;
        const r = await s.cli(['run', '-b', bundle(mode, (c) => {
          c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
          c.process.user = { uid: 65534, gid: 65534 };
          c.process.args = ['/ll', 'open', `/proc/${pid}/root/etc/passwd`, 'kill', String(pid), String(SIGUSR1)];
        }).dir, uniqueId(`llsig-${mode}`)]);
        assert.equal(r.code, 0, r.stderr);
        const [root, kill] = steps(r.stdout);
        if (mode === 'on') {
          assert.equal(root!.ok, false, `the host root through /proc/${pid}/root: ${r.stdout}`);
          assert.deepEqual([kill!.ok, kill!.errno], [false, 'EPERM'], 'SIGUSR1 to the host process is refused');
          await new Promise((res) => setTimeout(res, 100));
          assert.equal(sleeper.exitCode, null);
          assert.equal(sleeper.signalCode, null, 'the host process never got the signal');
        } else {
          assert.ok(root!.ok, `without Landlock /proc/${pid}/root leads to the host: ${r.stdout}`);
          assert.ok(kill!.ok, 'without Landlock the signal is sent');
          assert.equal(await exited(sleeper), 'SIGUSR1', 'and the host process died of it');
        }
      } finally {
        sleeper.kill('SIGKILL');
      }
    }
  });

  test('with the host network namespace shared, a host abstract unix socket cannot be reached', async () => {
    const name = `moat-ll-${randomBytes(6).toString('hex')}`;
    let accepted = 0;
    const server: Server = createServer((c) => {
      accepted++;
      c.destroy();
    });
    await new Promise<void>((res) => server.listen(`\0${name}`, res));
    try {
      for (const mode of ['on', 'off']) {
        const r = await s.cli(['run', '-b', bundle(mode, (c) => {
          c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
          c.process.args = ['/ll', 'uconnect', name];
        }).dir, uniqueId(`llunix-${mode}`)]);
        assert.equal(r.code, 0, r.stderr);
        const [conn] = steps(r.stdout);
        if (mode === 'on') assert.deepEqual([conn!.ok, conn!.errno], [false, 'EPERM'], 'the abstract socket outside is walled off');
        else assert.ok(conn!.ok, `without Landlock it is reachable: ${r.stdout}`);
      }
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(accepted, 1, 'exactly one connection (the one without Landlock) arrived');
    } finally {
      server.close();
    }
  });

  test('TCP bind and connect: ports off the allow-list fail', async () => {
    const allow = JSON.stringify({ net: { bind: [80, 81], connect: [80] } });
    for (const mode of [allow, 'off']) {
      const r = await s.cli(['run', '-b', bundle(mode, (c) => {
        for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_NET_ADMIN');
        c.process.args = ['/ll', 'lo-up', 'bind', '80', 'connect', '80', 'bind', '81', 'connect', '81', 'bind', '82'];
      }).dir, uniqueId('lltcp')]);
      assert.equal(r.code, 0, r.stderr);
      const got = steps(r.stdout).map((x) => `${x.step} ${x.arg}: ${x.ok ? 'ok' : x.errno}`);
      if (mode === 'off') assert.deepEqual(got, ['lo-up lo: ok', 'bind 80: ok', 'connect 80: ok', 'bind 81: ok', 'connect 81: ok', 'bind 82: ok']);
      else assert.deepEqual(got, ['lo-up lo: ok', 'bind 80: ok', 'connect 80: ok', 'bind 81: ok', 'connect 81: EACCES', 'bind 82: EACCES'],
        'bind allowed on 80 and 81 only, connect on 80 only (81 has a listener, yet the connect is refused)');
    }
  });

  test('ordinary programs work under Landlock: pipelines, /tmp, /dev, /proc/self, a writable root', async () => {
    const script = [
      'set -e',
      'echo hello | tr a-z A-Z > /tmp/x', 'cat /tmp/x',
      'mkdir /tmp/d && mv /tmp/x /tmp/d/y && ln -s y /tmp/d/z && cat /tmp/d/z > /dev/null && rm -r /tmp/d',
      'grep -c ^Name: /proc/self/status', 'ls /proc/self/fd > /dev/null', 'echo 0 > /proc/self/oom_score_adj',
      'head -c 4 /dev/zero | wc -c', 'head -c 8 /dev/urandom > /dev/null', 'echo x > /dev/full || true',
      'echo shm > /dev/shm/f && cat /dev/shm/f',
      // the test's stdout is a host file: reopened through /dev/stdout it is the one host
      // inode the container may open, for writing only, as it holds it
      // (last, as the shell's own fd 1 would write over what the appending fd wrote)
      'cat /dev/stdout 2>/dev/null || echo no-read-back', 'echo done', 'echo via-dev-stdout >> /dev/stdout',
    ].join('\n');
    const tmp = { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] };
    const r = await s.cli(['run', '-b', bundle('on', (c) => {
      c.mounts.push(tmp);
      c.process.args = ['/bin/sh', '-c', script];
    }).dir, uniqueId('llok')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['HELLO', '1', '4', 'shm', 'no-read-back', 'done', 'via-dev-stdout']);
    // a writable root gets every right beneath it, read-only mounts stay read-only
    const rw = await s.cli(['run', '-b', bundle('on', (c) => {
      c.root.readonly = false;
      c.process.args = ['/bin/sh', '-c', 'echo a > /etc/x && cat /etc/x && rm /etc/x && touch /sys/x 2>/dev/null || echo sys-ro'];
    }).dir, uniqueId('llrw')]);
    assert.equal(rw.code, 0, rw.stderr);
    assert.deepEqual(rw.stdout.trim().split('\n'), ['a', 'sys-ro']);
    // a read-only root stays read-only, a read-only bind mount is read and execute only
    const ro = await s.cli(['run', '-b', bundle('on', (c) => {
      c.mounts.push({ destination: '/opt', type: 'bind', source: '/bin', options: ['rbind', 'ro'] });
      c.process.args = ['/bin/sh', '-c', '/opt/busybox true && echo exec-ok; touch /etc/x 2>/dev/null || echo root-ro'];
    }).dir, uniqueId('llro')]);
    assert.equal(ro.code, 0, ro.stderr);
    assert.deepEqual(ro.stdout.trim().split('\n'), ['exec-ok', 'root-ro']);
  });

  test('failing closed: `on` refuses a kernel without Landlock, `best-effort` starts and says so, a lower ABI is named', async () => {
    // the runtime's ABI cache, made to say what another kernel would say
    const t = new Scratch();
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const pretend = (abi: number, reason?: string) => writeFileSync(join(t.state.root, LANDLOCK_CACHE), JSON.stringify({ bootId: boot, abi, ...(reason ? { reason } : {}) }));
      pretend(0, 'disabled at boot (EOPNOTSUPP)');
      const b = t.bundle((c) => {
        c.annotations = { [LANDLOCK_ANNOTATION]: 'on' };
        c.process.args = ['/bin/true'];
      });
      const on = await t.cli(['run', '-b', b.dir, uniqueId('llnone')]);
      assert.notEqual(on.code, 0);
      assert.match(on.stderr, /run\.moat\.landlock: Landlock is requested but this kernel has none \(disabled at boot \(EOPNOTSUPP\)\)/);
      const be = await t.cli(['run', '-b', t.bundle((c) => {
        c.annotations = { [LANDLOCK_ANNOTATION]: 'best-effort' };
        c.process.args = ['/bin/true'];
      }).dir, uniqueId('llbe')]);
      assert.equal(be.code, 0, be.stderr);
      assert.match(be.stderr, /warn: annotations\.run\.moat\.landlock: Landlock is requested but this kernel has none .*skipped \(best-effort\)/);
      pretend(3);
      const low = await t.cli(['run', '-b', b.dir, uniqueId('lllow')]);
      assert.equal(low.code, 0, low.stderr);
      assert.match(low.stderr, /Landlock ABI 3 on this kernel: not enforced: LANDLOCK_ACCESS_FS_IOCTL_DEV \(ABI 5\), LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET \(ABI 6\), LANDLOCK_SCOPE_SIGNAL \(ABI 6\)/);
      const net = await t.cli(['run', '-b', t.bundle((c) => {
        c.annotations = { [LANDLOCK_ANNOTATION]: '{"net":{"bind":[80]}}' };
        c.process.args = ['/bin/true'];
      }).dir, uniqueId('llnet')]);
      assert.notEqual(net.code, 0, 'explicit port rules the kernel cannot enforce: refused');
      assert.match(net.stderr, /Landlock ABI 3 cannot enforce LANDLOCK_ACCESS_NET_BIND_TCP \(ABI 4\)/);
    } finally {
      await t.cleanup();
    }
  });

  test('the helper refuses a ruleset that needs more than the kernel offers (a stale cache never weakens it)', async () => {
    const bytes = encodeLandlock({ abi: host.abi + 1, handledFs: 1, handledNet: 0, scoped: 0, restrictFlags: 0, rules: [] });
    const h = runHelper({ ops: [{ op: 'landlock', bytes, origin: 'annotations.run.moat.landlock' }], stdio: ['ignore', 'ignore', 'ignore'] });
    await assert.rejects(h.pid, new RegExp(`\`annotations.run.moat.landlock\`: the kernel offers Landlock ABI ${host.abi}, the ruleset needs ABI ${host.abi + 1}: EOPNOTSUPP`));
    assert.notEqual(await h.exit, 0);
  });

  test('`moat-oci features` says which Landlock ABI this kernel has', async () => {
    const f = JSON.parse((await s.cli(['features'])).stdout);
    assert.equal(f.annotations['run.moat.landlock.available'], 'true');
    assert.equal(f.annotations['run.moat.landlock.abi'], String(host.abi));
    assert.match(f.annotations['run.moat.mac.layers'], /^landlock\b/);
    assert.match(f.annotations['run.moat.mac.landlock'], new RegExp(`^ABI ${host.abi}:`));
  });
});

// The helper's payload parser, driven with malformed and hostile rulesets: each ends in the
// error record naming the op, before anything is restricted. Needs no root.
describe('landlock payload parser (native/ops-landlock.c)', () => {
  const good = () => Buffer.from(encodeLandlock({ abi: 1, handledFs: 1, handledNet: 0, scoped: 0, restrictFlags: 0, rules: [{ type: 'path', path: '/', access: 1 }] }));
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty', () => new Uint8Array(), /the header alone is 48/],
    ['truncated header', () => good().subarray(0, 47), /the header alone is 48/],
    ['another version', () => { const b = good(); b.writeUInt32LE(2, 0); return b; }, /version 2, helper speaks 1/],
    ['unknown flag', () => { const b = good(); b.writeUInt32LE(2, 36); return b; }, /unknown flags or reserved bits/],
    ['reserved word', () => { const b = good(); b.writeUInt32LE(1, 44); return b; }, /unknown flags or reserved bits/],
    ['fs right from the future', () => { const b = good(); b.writeBigUInt64LE(1n << 16n, 8); return b; }, /access bits this helper does not know/],
    ['scope from the future', () => { const b = good(); b.writeBigUInt64LE(4n, 24); return b; }, /access bits this helper does not know/],
    ['too many rules', () => { const b = good(); b.writeUInt32LE(4097, 40); return b; }, /4097 rules, at most 4096/],
    ['rule count past the end', () => { const b = good(); b.writeUInt32LE(2, 40); return b; }, /rule 1: truncated header/],
    ['rule length past the end', () => { const b = good(); b.writeUInt32LE(1000, 52); return b; }, /rule 0: 1000 bytes overrun/],
    ['trailing bytes', () => Buffer.concat([good(), Buffer.alloc(3)]), /3 trailing bytes/],
    ['relative path', () => { const b = good(); b[64] = 0x61; return b; }, /rule 0: bad path/],
    ['right not handled', () => { const b = good(); b.writeBigUInt64LE(2n, 56); return b; }, /rule 0: access not within the handled set/],
    ['no right at all', () => { const b = good(); b.writeBigUInt64LE(0n, 56); return b; }, /rule 0: access not within the handled set/],
    ['unknown rule type', () => { const b = good(); b.writeUInt16LE(4, 48); return b; }, /rule 0: unknown type 4/],
    ['fd other than stdio', () => Buffer.from(encodeLandlock({ abi: 1, handledFs: 4, handledNet: 0, scoped: 0, restrictFlags: 0, rules: [{ type: 'fd', fd: 3 as 0, access: 4 }] })), /rule 0: bad fd/],
    ['fd with a directory right', () => Buffer.from(encodeLandlock({ abi: 1, handledFs: 8, handledNet: 0, scoped: 0, restrictFlags: 0, rules: [{ type: 'fd', fd: 1, access: 8 }] })), /rule 0: access not within the handled file rights/],
    ['port out of range', () => Buffer.from(encodeLandlock({ abi: 4, handledFs: 1, handledNet: 1, scoped: 0, restrictFlags: 0, rules: [{ type: 'port', port: 65536, access: 1 }] })), /rule 0: bad port/],
  ];
  for (const [name, make, re] of cases) {
    test(`refused: ${name}`, async () => {
      const h = runHelper({ ops: [{ op: 'landlock', bytes: make(), origin: 'annotations.run.moat.landlock' }], stdio: ['ignore', 'ignore', 'ignore'] });
      await assert.rejects(h.pid, (e: Error) => {
        assert.match(e.message, /^`annotations\.run\.moat\.landlock`: landlock /);
        assert.match(e.message, re);
        return true;
      });
      assert.notEqual(await h.exit, 0);
    });
  }
});
