// `moat generate systemd`: the unit is valid for systemd, and the commands it runs really start
// and stop the sandbox.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary, isRoot } from '../lib/bundle.js';
import { MoatScratch } from '../lib/moat.js';

const skip = isRoot() ? false : 'integration tests create sandboxes and need root';

/** The words of a unit's Exec line (the generator quotes with "" only where needed). */
function words(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

describe('moat generate systemd', { skip }, () => {
  let s: MoatScratch;
  let unit: string;
  before(async () => {
    s = new MoatScratch();
    await s.ok(['create', 'svc', '--template', 'busybox']);
    unit = await s.ok(['generate', 'systemd', 'svc', '--time', '3']);
  });
  after(async () => s.cleanup());

  test('the unit names the sandbox, its data dir and the grace time', () => {
    assert.match(unit, /^\[Service\]$/m);
    assert.match(unit, /^ExecStart=.* --data-dir \S+ start svc$/m);
    assert.match(unit, /^ExecStop=.* stop --time 3 svc$/m);
    assert.ok(unit.includes(s.data));
  });

  test('systemd-analyze accepts it', { skip: hasBinary('systemd-analyze') ? false : 'systemd-analyze is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-unit-'));
    try {
      const f = join(dir, 'moat-svc.service');
      writeFileSync(f, unit);
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', f], { encoding: 'utf8' });
      // verify also complains about the host's other units when systemd is not running; only
      // lines about this file count
      const ours = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('moat-svc.service'));
      assert.deepEqual(ours, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ExecStart starts the sandbox and ExecStop stops it', async () => {
    const exec = (key: string) => {
      const line = unit.split('\n').find((l) => l.startsWith(`${key}=`))!.slice(key.length + 1);
      const [cmd, ...args] = words(line);
      return spawnSync(cmd!, args, { encoding: 'utf8' });
    };
    assert.equal(exec('ExecStart').status, 0);
    assert.match(await s.ok(['list']), /svc\s+running/);
    assert.equal(exec('ExecStop').status, 0);
    assert.doesNotMatch(await s.ok(['list']), /svc\s+running/);
  });
});
