// parseArgs: runc-style flags, aliases, `--x=y`, repeatable flags, `--`, stopAtPositional and
// usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';

const SPECS: Record<string, FlagSpec> = {
  bundle: { type: 'string', alias: 'b', help: 'bundle directory' },
  detach: { type: 'bool', alias: 'd', help: 'detach' },
  tty: { type: 'bool', alias: 't', help: 'allocate a tty' },
  env: { type: 'strings', alias: 'e', help: 'set an environment variable' },
  'pid-file': { type: 'string', help: 'write the pid here' },
};

const p = (argv: string[], stop = false) => parseArgs(argv, SPECS, stop);

test('long and short flags, booleans and values', () => {
  assert.deepEqual(p(['--bundle', '/b', '--detach', 'id1']), { flags: { bundle: '/b', detach: true }, rest: ['id1'] });
  assert.deepEqual(p(['-b', '/b', '-d', 'id1']), { flags: { bundle: '/b', detach: true }, rest: ['id1'] });
  assert.deepEqual(p(['--pid-file', '/run/p', 'x']), { flags: { 'pid-file': '/run/p' }, rest: ['x'] });
  assert.deepEqual(p([]), { flags: {}, rest: [] });
});

test('a single dash with the full name works, as in runc (Go flag package)', () => {
  assert.deepEqual(p(['-bundle', '/b', '-detach']).flags, { bundle: '/b', detach: true });
});

test('--x=y and -x=y; a value may contain `=` and may be empty', () => {
  assert.deepEqual(p(['--bundle=/b', '-e=A=1', '--pid-file=']).flags, { bundle: '/b', env: ['A=1'], 'pid-file': '' });
  assert.deepEqual(p(['--detach=false', '--tty=true']).flags, { detach: false, tty: true });
});

test('repeatable flags collect every value in order', () => {
  assert.deepEqual(p(['-e', 'A=1', '--env', 'B=2', '--env=C=3', 'id']), { flags: { env: ['A=1', 'B=2', 'C=3'] }, rest: ['id'] });
  assert.deepEqual(p(['--bundle', 'a', '--bundle', 'b']).flags, { bundle: 'b' }, 'a single-valued flag keeps the last');
});

test('flags and positionals interleave; `-` is a positional', () => {
  assert.deepEqual(p(['id', '--detach', 'more', '-']), { flags: { detach: true }, rest: ['id', 'more', '-'] });
});

test('`--` ends the flags', () => {
  assert.deepEqual(p(['-d', '--', '--bundle', 'x', '-e']), { flags: { detach: true }, rest: ['--bundle', 'x', '-e'] });
  assert.deepEqual(p(['--']), { flags: {}, rest: [] });
});

test('stopAtPositional: everything after the first positional is left alone', () => {
  assert.deepEqual(p(['-t', 'ctr', 'ls', '-la', '--env', 'x'], true), { flags: { tty: true }, rest: ['ctr', 'ls', '-la', '--env', 'x'] });
  assert.throws(() => p(['-t', 'ctr', 'ls', '-la'], false), /unknown flag `-la`/, 'without it, -la is parsed as a flag');
  assert.deepEqual(p(['-b', 'x', 'ctr', '-d'], true), { flags: { bundle: 'x' }, rest: ['ctr', '-d'] }, 'a flag value is not the first positional');
});

test('unknown flags and missing values are usage errors that name the flag', () => {
  assert.throws(() => p(['--nope']), (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE' && /unknown flag `--nope`/.test(e.message));
  assert.throws(() => p(['-x']), /unknown flag `-x`/);
  assert.throws(() => p(['--d']), /unknown flag `--d`/, 'aliases need a single dash');
  assert.throws(() => p(['--bundle']), (e: unknown) => e instanceof UsageError && /flag `--bundle` needs a value/.test(e.message));
  assert.throws(() => p(['-e']), /`-e` needs a value/);
  assert.throws(() => p(['--=x']), /unknown flag/);
});

test('names inherited from Object.prototype are unknown flags', () => {
  for (const a of [['--constructor', 'x'], ['-hasOwnProperty', 'y'], ['--toString'], ['--__proto__', 'z']]) {
    assert.throws(() => p(a), /unknown flag/, a.join(' '));
  }
});

test('flagHelp lists each flag with its alias and a VALUE placeholder', () => {
  const h = flagHelp(SPECS).split('\n');
  assert.equal(h.length, 5);
  assert.match(h[0]!, /^ {2}-b, --bundle VALUE +bundle directory$/);
  assert.match(h[1]!, /^ {2}-d, --detach +detach$/);
  assert.match(h[4]!, /^ {6}--pid-file VALUE +write the pid here$/);
});
