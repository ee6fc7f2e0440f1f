// Unit files as `--unit` reads them: systemd's word splitting, drop-ins, environment files,
// and the errors naming --unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHostUnit, splitUnitCommand } from './unit.js';

test('command lines split as systemd does', () => {
  const env = new Map([['OPTS', '-a -b'], ['DIR', '/srv/my dir']]);
  assert.deepEqual(splitUnitCommand('/bin/x $OPTS ${DIR} "two words" \'s q\' a\\ b', env), ['/bin/x', '-a', '-b', '/srv/my dir', 'two words', 's q', 'a b']);
  assert.deepEqual(splitUnitCommand('/bin/x $MISSING ""', env), ['/bin/x', '']);
});

function withUnits(files: Record<string, string>, fn: () => void): void {
  const d = mkdtempSync(join(tmpdir(), 'moat-units-'));
  for (const [n, t] of Object.entries(files)) {
    mkdirSync(join(d, n, '..'), { recursive: true });
    writeFileSync(join(d, n), t);
  }
  process.env.MOAT_UNIT_PATH = d;
  try {
    fn();
  } finally {
    delete process.env.MOAT_UNIT_PATH;
    rmSync(d, { recursive: true });
  }
}

test('ExecStart, Environment, EnvironmentFile, User, WorkingDirectory, drop-ins', () => {
  const d = mkdtempSync(join(tmpdir(), 'moat-envf-'));
  writeFileSync(join(d, 'env'), '# defaults\nPORT=8080\nexport NAME="web site"\n');
  try {
    withUnits({
      'web.service': `[Unit]\nDescription=x\n\n[Service]\nEnvironmentFile=-/nonexistent\nEnvironmentFile=${join(d, 'env')}\nEnvironment="GREETING=hello world" MODE=prod\nExecStart=/bin/sh -c \\\n  'echo $GREETING' $PORT\nUser=nobody\nWorkingDirectory=-/srv\n`,
      'web.service.d/override.conf': '[Service]\nExecStart=\nExecStart=-/bin/echo ${NAME} $PORT %n %p %%\n',
    }, () => {
      const { unit, issues } = readHostUnit('web.service');
      assert.deepEqual(issues, []);
      assert.deepEqual(unit!.command, ['/bin/echo', 'web site', '8080', 'web.service', 'web', '%']);
      assert.ok(unit!.env.includes('GREETING=hello world') && unit!.env.includes('MODE=prod') && unit!.env.includes('PORT=8080'));
      assert.equal(unit!.user!.uid, 65534);
      assert.equal(unit!.cwd, '/srv');
    });
  } finally {
    rmSync(d, { recursive: true });
  }
});

test('units a sandbox cannot run are errors naming --unit', () => {
  withUnits({
    'fork.service': '[Service]\nType=forking\nExecStart=/bin/true\n',
    'none.service': '[Service]\nType=oneshot\n',
    'two.service': '[Service]\nType=oneshot\nExecStart=/bin/true\nExecStart=/bin/false\n',
    'priv.service': '[Service]\nExecStart=+/bin/true\n',
    'gone.service': '[Service]\nExecStart=/nonexistent-program-x\nUser=nobody\n',
    'spec.service': '[Service]\nExecStart=/bin/true %h\n',
  }, () => {
    for (const [name, re] of [['missing.service', /no unit/], ['fork.service', /Type=forking/], ['none.service', /no ExecStart/], ['two.service', /2 ExecStart/], ['priv.service', /full privileges/], ['spec.service', /specifier `%h`/], ['gone.service', /`\/nonexistent-program-x` is not on the host/], ['bad name', /not a service unit name/]] as const) {
      const { unit, issues } = readHostUnit(name);
      assert.equal(unit, undefined, name);
      assert.equal(issues[0]!.path, '--unit');
      assert.match(issues[0]!.message, re, name);
    }
  });
});
