// compileMountOptions: each OCI mount option compiles to the right MOUNT_ATTR_* bits (top
// mount or whole tree), propagation, or filesystem data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { compileMountOptions as c, MOUNT_ATTR, MS } from './options.js';
import { MOUNT_OPTION_NAMES } from './option-names.js';

const { RDONLY, NOSUID, NODEV, NOEXEC, _ATIME, NOATIME, STRICTATIME, NODIRATIME, NOSYMFOLLOW } = MOUNT_ATTR;
const bits = (o: ReturnType<typeof c>) => [o.attrSet, o.attrClr, o.rattrSet, o.rattrClr];

test('MOUNT_ATTR and MS values equal <linux/mount.h>', (t) => {
  const h = '/usr/include/linux/mount.h';
  if (!existsSync(h)) return t.skip(`${h} not installed (linux-libc-dev)`);
  const text = readFileSync(h, 'utf8');
  for (const [name, v] of Object.entries(MOUNT_ATTR)) {
    const m = new RegExp(`#define MOUNT_ATTR_${name}\\s+(0x[0-9a-fA-F]+)`).exec(text);
    assert.ok(m, `MOUNT_ATTR_${name} in ${h}`);
    assert.equal(v, Number(m[1]), `MOUNT_ATTR_${name}`);
  }
  assert.deepEqual({ ...MS }, { REC: 16384, UNBINDABLE: 131072, PRIVATE: 262144, SLAVE: 524288, SHARED: 1048576 });
});

test('ro and rw on a bind mount: set and clear RDONLY on the top mount only', () => {
  assert.deepEqual(bits(c('bind', ['ro'])), [RDONLY, 0, 0, 0]);
  assert.deepEqual(bits(c('bind', ['rw'])), [0, RDONLY, 0, 0]);
  assert.deepEqual(bits(c('bind', ['ro', 'rw'])), [0, RDONLY, 0, 0], 'last one wins');
  assert.deepEqual(bits(c('bind', ['rw', 'ro'])), [RDONLY, 0, 0, 0], 'last one wins');
});

test('rro and rrw apply to the whole tree', () => {
  assert.deepEqual(bits(c('bind', ['rro'])), [0, 0, RDONLY, 0]);
  assert.deepEqual(bits(c('bind', ['rrw'])), [0, 0, 0, RDONLY]);
  assert.deepEqual(bits(c('bind', ['rro', 'rrw'])), [0, 0, 0, RDONLY]);
  assert.deepEqual(bits(c('bind', ['rnosuid', 'rnodev', 'rnoexec', 'rnosymfollow'])), [0, 0, NOSUID | NODEV | NOEXEC | NOSYMFOLLOW, 0]);
  assert.deepEqual(bits(c('bind', ['rsuid', 'rdev', 'rexec'])), [0, 0, 0, NOSUID | NODEV | NOEXEC]);
  assert.deepEqual(bits(c('bind', ['ro', 'rro'])), [RDONLY, 0, RDONLY, 0], 'top and tree are independent');
});

test('flag options set and clear their bits', () => {
  assert.deepEqual(bits(c('bind', ['nosuid', 'nodev', 'noexec', 'nosymfollow', 'nodiratime'])), [NOSUID | NODEV | NOEXEC | NOSYMFOLLOW | NODIRATIME, 0, 0, 0]);
  assert.deepEqual(bits(c('bind', ['suid', 'dev', 'exec', 'symfollow', 'diratime'])), [0, NOSUID | NODEV | NOEXEC | NOSYMFOLLOW | NODIRATIME, 0, 0]);
  assert.deepEqual(bits(c('bind', ['nosuid', 'suid'])), [0, NOSUID, 0, 0]);
});

test('bind and rbind', () => {
  assert.deepEqual([c('bind', []).bind, c('bind', []).recursiveBind], [true, false], 'type bind');
  assert.deepEqual([c('none', ['bind']).bind, c('none', ['bind']).recursiveBind], [true, false]);
  assert.deepEqual([c('none', ['rbind']).bind, c('none', ['rbind']).recursiveBind], [true, true]);
  assert.deepEqual([c(undefined, ['rbind', 'bind']).recursiveBind, c(undefined, ['bind', 'rbind']).recursiveBind], [true, true], 'rbind anywhere wins');
  assert.deepEqual([c('tmpfs', []).bind, c('tmpfs', []).recursiveBind], [false, false]);
  assert.deepEqual(c('none', ['rbind']).data, [], 'bind/rbind are not data');
});

test('propagation options: the last one wins; r* adds MS_REC', () => {
  const want: Record<string, number> = {
    shared: MS.SHARED, rshared: MS.SHARED | MS.REC, slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
    private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
  };
  for (const [opt, v] of Object.entries(want)) {
    const o = c('bind', [opt]);
    assert.equal(o.propagation, v, opt);
    assert.deepEqual(bits(o), [0, 0, 0, 0], `${opt} sets no attributes`);
    assert.deepEqual(o.data, [], `${opt} is not data`);
  }
  assert.equal(c('bind', ['rshared', 'private']).propagation, MS.PRIVATE);
  assert.equal(c('bind', []).propagation, 0);
});

test('atime options: one of the _ATIME values, with the whole _ATIME field cleared', () => {
  assert.deepEqual(bits(c('bind', ['noatime'])), [NOATIME, _ATIME, 0, 0]);
  assert.deepEqual(bits(c('bind', ['strictatime'])), [STRICTATIME, _ATIME, 0, 0]);
  assert.deepEqual(bits(c('bind', ['relatime'])), [0, _ATIME, 0, 0]);
  assert.deepEqual(bits(c('bind', ['atime'])), [0, _ATIME, 0, 0]);
  assert.deepEqual(bits(c('bind', ['noatime', 'strictatime'])), [STRICTATIME, _ATIME, 0, 0], 'the last atime wins');
  assert.deepEqual(bits(c('bind', ['strictatime', 'relatime'])), [0, _ATIME, 0, 0]);
  assert.deepEqual(bits(c('bind', ['noatime', 'nodiratime'])), [NOATIME | NODIRATIME, _ATIME, 0, 0], 'nodiratime is separate');
  assert.deepEqual(bits(c('bind', ['rnoatime'])), [0, 0, NOATIME, _ATIME]);
  assert.deepEqual(bits(c('bind', ['rstrictatime', 'rnodiratime'])), [0, 0, STRICTATIME | NODIRATIME, _ATIME]);
  // exactly one atime mode is ever set
  for (const o of [c('bind', ['noatime', 'relatime', 'strictatime']), c('tmpfs', ['strictatime', 'noatime'])]) {
    const mode = o.attrSet & _ATIME;
    assert.ok([0, NOATIME, STRICTATIME].includes(mode), `atime mode ${mode}`);
  }
});

test('a fresh filesystem has nothing to clear: attrClr is 0, recursive clears stay', () => {
  assert.deepEqual(bits(c('tmpfs', ['rw', 'suid', 'noatime'])), [NOATIME, 0, 0, 0]);
  assert.deepEqual(bits(c('proc', ['nosuid', 'noexec', 'nodev'])), [NOSUID | NOEXEC | NODEV, 0, 0, 0]);
  assert.deepEqual(bits(c('sysfs', ['ro'])), [RDONLY, 0, 0, 0]);
  assert.deepEqual(bits(c('tmpfs', ['rrw'])), [0, 0, 0, RDONLY]);
});

test('data options pass through in order; superblock flags become data; no-ops are dropped', () => {
  assert.deepEqual(c('tmpfs', ['nosuid', 'mode=755', 'size=65536k', 'ro']).data, ['mode=755', 'size=65536k']);
  assert.deepEqual(c('devpts', ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']).data, ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.deepEqual(c('tmpfs', ['sync', 'dirsync', 'mand', 'lazytime']).data, ['sync', 'dirsync', 'mand', 'lazytime']);
  assert.deepEqual(c('tmpfs', ['async', 'nomand', 'nolazytime']).data, [], 'defaults of a fresh superblock');
  assert.deepEqual(c('overlay', ['lowerdir=/a:/b,upperdir=/c', 'x-opt=a=b']).data, ['lowerdir=/a:/b,upperdir=/c', 'x-opt=a=b']);
  const ignored = c('tmpfs', ['defaults', 'remount', 'tmpcopyup', 'copyup', 'nocopyup']);
  assert.deepEqual([ignored.data, ignored.unknown, bits(ignored)], [[], [], [0, 0, 0, 0]]);
});

test('options that are neither flags nor plausible data are reported as unknown', () => {
  assert.deepEqual(c('bind', ['idmap']).idmap, 'idmap');
  assert.deepEqual(c('bind', ['ridmap', 'idmap']).idmap, 'ridmap');
  assert.deepEqual(c('tmpfs', ['a b', '', '=x', 'ok']).unknown, ['a b', '', '=x']);
  assert.deepEqual(c('tmpfs', ['a b', '', '=x', 'ok']).data, ['ok']);
});

// Every name `runc features` gets from us should mean something here: an attribute, a
// propagation, a bind, a deliberate no-op, or a superblock flag, never fs data by accident.
test('every advertised option name is understood (not passed on as filesystem data)', () => {
  const sb = new Set(['sync', 'dirsync', 'mand', 'lazytime']);
  const stray = MOUNT_OPTION_NAMES.filter((n) => {
    const o = c('tmpfs', [n]);
    return o.unknown.length > 0 || o.data.some((d) => !sb.has(d));
  });
  assert.deepEqual(stray, []);
});

test('option names that are Object.prototype keys are data/unknown, not a crash', () => {
  for (const n of ['toString', 'constructor', '__proto__', 'rvalueOf', 'hasOwnProperty']) {
    assert.doesNotThrow(() => c('tmpfs', [n]), n);
  }
});
