// Shell completion (`moat completion bash|zsh`), made from the command table and exercised in
// a real bash; `--help` on every command of the table; `--json` where a script reads output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary, isRoot, isStaticElf, removeTree } from '../lib/bundle.js';
import { MoatScratch, moatPath } from '../lib/moat.js';
import { COMMANDS } from '../../src/cli/moat/commands.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/bin/busybox') || !isStaticElf('/bin/busybox') ? 'needs busybox-static' : false;

describe('moat: completion, --help, --json', { skip }, () => {
  let s: MoatScratch;
  let dir: string;
  let script: string;
  before(async () => {
    s = new MoatScratch();
    dir = mkdtempSync(join(tmpdir(), 'moat-completion-'));
    script = join(dir, 'moat.bash');
    writeFileSync(script, await s.ok(['completion', 'bash']));
    await s.ok(['create', 'alpha', '--template', 'busybox']);
    await s.ok(['create', 'beta', '--template', 'busybox']);
  });
  after(async () => {
    await s.cleanup();
    removeTree(dir);
  });

  /** What bash completes for a command line (the last word is the one completed). */
  function complete(line: string[]): string[] {
    const words = line.map((w) => `'${w}'`).join(' ');
    const sh = `moat() { ${process.execPath} ${moatPath} "$@"; }\nsource ${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _moat; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', sh], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  }

  test('commands, flags and flag values', () => {
    assert.deepEqual(complete(['moat', 'st']), ['start', 'stop']);
    assert.deepEqual(complete(['moat', 'create', 'x', '--te']), ['--template']);
    assert.deepEqual(complete(['moat', 'create', 'x', '--template', '']), ['busybox', 'debian', 'host', 'oci:']);
    assert.deepEqual(complete(['moat', 'run', '--network', '']), ['host', 'none']);
    assert.deepEqual(complete(['moat', 'completion', '']), ['bash', 'zsh']);
    assert.deepEqual(complete(['moat', 'generate', '']), ['systemd']);
  });

  test('sandbox names from the data dir given on the line', () => {
    assert.deepEqual(complete(['moat', '--data-dir', s.data, 'inspect', '']), ['alpha', 'beta']);
    assert.deepEqual(complete(['moat', '--data-dir', s.data, 'exec', '-t', 'al']), ['alpha']);
    assert.deepEqual(complete(['moat', '--data-dir', s.data, 'generate', 'systemd', 'b']), ['beta']);
    assert.deepEqual(complete(['moat', '--data-dir', s.data, 'inspect', 'alpha', '']), [], 'one name only');
  });

  test('zsh script', { skip: hasBinary('zsh') ? false : 'zsh is not installed' }, async () => {
    writeFileSync(join(dir, 'moat.zsh'), await s.ok(['completion', 'zsh']));
    execFileSync('zsh', ['-n', join(dir, 'moat.zsh')]);
  });

  test('--help on every command of the table', async () => {
    const top = await s.ok(['--help']);
    for (const cmd of Object.keys(COMMANDS)) {
      assert.match(top, new RegExp(`^  ${cmd} `, 'm'), cmd);
      assert.match(await s.ok([cmd, '--help']), new RegExp(`^usage: moat ${cmd}`), cmd);
    }
  });

  test('--json from create, start, clone, list and inspect', async () => {
    assert.equal(JSON.parse(await s.ok(['create', 'gamma', '--template', 'busybox', '--json'])).name, 'gamma');
    const started = JSON.parse(await s.ok(['start', 'gamma', '--json'])) as { name: string; pid: number };
    assert.equal(started.name, 'gamma');
    assert.equal(JSON.parse(await s.ok(['inspect', 'gamma', '--json'])).pid, started.pid);
    await s.ok(['stop', '--time', '0', 'gamma']);
    assert.equal(JSON.parse(await s.ok(['clone', 'gamma', 'delta', '--json'])).name, 'delta');
    assert.deepEqual((JSON.parse(await s.ok(['list', '--json'])) as { name: string }[]).map((x) => x.name), ['alpha', 'beta', 'delta', 'gamma']);
  });
});
