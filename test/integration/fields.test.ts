// The rest of the OCI runtime spec's Linux fields, asserted from inside real containers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../lib/bundle.js';
import { Scratch, parseProbe, uniqueId } from '../lib/oci.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';

describe('OCI fields', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('namespaced sysctls are written in the container\'s namespaces only', async () => {
    const host = readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim();
    const r = await s.run((c) => (c.linux.sysctl = { 'kernel.shmmni': '1234', 'net.ipv4.ip_forward': '1' }), ['/bin/sh', '-c', 'cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_forward']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1234', '1']);
    assert.equal(readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim(), host, 'the host value is unchanged');
  });

  test('a time namespace with offsets shifts the container\'s boot time clock', async () => {
    const r = await s.run((c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
    }, ['/bin/cat', '/proc/uptime']);
    assert.equal(r.code, 0, r.stderr);
    const inside = Number(r.stdout.split(' ')[0]);
    const host = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(inside - host > 86400 * 364, `uptime inside ${inside}, host ${host}`);
  });

  test('a namespace given by path is joined', async () => {
    const b = s.bundle((c) => {
      c.process.args = ['/probe', 'pause'];
      c.hostname = 'shared-uts';
    });
    const first = uniqueId('ns1');
    assert.equal((await s.cli(['run', '-d', '-b', b.dir, first])).code, 0);
    const pid = JSON.parse((await s.cli(['state', first])).stdout).pid;
    const p = await s.probe(['hostname'], (c) => {
      delete c.hostname;
      c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'uts' ? { type: 'uts', path: `/proc/${pid}/ns/uts` } : n));
    });
    assert.equal(p.hostname, 'shared-uts');
    await s.cli(['delete', '-f', first]);
  });

  test('linux.devices: extra devices are made and allowed', async () => {
    const ls: any[] = await s.probe(['ls', '/dev'], (c) => {
      c.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 }];
    });
    const fuse = ls.find((d) => d.name === 'fuse');
    assert.equal(fuse?.type, 'char');
    assert.equal(fuse.major, 10);
    assert.equal(fuse.minor, 229);
    assert.equal(fuse.mode, '0600');
  });

  test('personality LINUX32 makes the machine look 32-bit', async () => {
    const r = await s.run((c) => (c.linux.personality = { domain: 'LINUX32' }), ['/bin/uname', '-m']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^i[3-6]86$/);
  });

  test('oomScoreAdj is applied to the container process', async () => {
    const r = await s.run((c) => (c.process.oomScoreAdj = 500), ['/bin/cat', '/proc/self/oom_score_adj']);
    assert.equal(r.stdout.trim(), '500');
  });

  test('--no-pivot (MS_MOVE + chroot) also gives the container its own root', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'ls', '/']));
    const r = await s.cli(['run', '--no-pivot', '-b', b.dir, uniqueId('nopivot')]);
    assert.equal(r.code, 0, r.stderr);
    const names = parseProbe(r.stdout).map((e: any) => e.name);
    assert.ok(names.includes('probe') && !names.includes('work'), names.join(' '));
  });

  test('rootfsPropagation rslave keeps the container\'s mounts from the host', async () => {
    const m: any[] = await s.probe(['mounts'], (c) => (c.linux.rootfsPropagation = 'rslave'));
    assert.ok(m.every((x) => x.propagation !== 'shared'));
  });

  test('startContainer hooks run inside the container after start, before the process', async () => {
    const b = s.bundle();
    const cfg = b.readConfig();
    cfg.root.readonly = false;
    cfg.process.args = ['/bin/cat', '/tmp/hook-was-here'];
    // the path resolves in the container: the hook is the container's own shell
    cfg.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /tmp/hook-was-here'] }] };
    b.writeConfig(cfg);
    const r = await s.cli(['run', '-b', b.dir, uniqueId('starthook')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, 'creating');
  });

  test('annotations appear in the state', async () => {
    const b = s.bundle((c) => {
      c.process.args = ['/probe', 'pause'];
      c.annotations = { 'org.example.key': 'value' };
    });
    const id = uniqueId('ann');
    await s.cli(['run', '-d', '-b', b.dir, id]);
    assert.deepEqual(JSON.parse((await s.cli(['state', id])).stdout).annotations, { 'org.example.key': 'value' });
    await s.cli(['delete', '-f', id]);
  });

  test('--log-format json writes errors a shim can read', async () => {
    const b = s.bundle((c) => (c.process.cwd = 'relative'));
    const log = join(b.dir, 'log.json');
    writeFileSync(log, '');
    const r = await s.cli(['--log', log, '--log-format', 'json', 'create', '-b', b.dir, uniqueId('log')]);
    assert.equal(r.code, 1);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1)!);
    assert.equal(last.level, 'error');
    assert.match(last.msg, /process\.cwd/);
  });
});

describe('network namespace', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('a new network namespace has only loopback, and it is up', async () => {
    const ifaces: any[] = await s.probe(['ifaces']);
    assert.deepEqual(ifaces.map((i) => i.name), ['lo']);
    assert.equal(ifaces[0].up, true);
  });
});
