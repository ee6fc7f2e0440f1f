// User namespaces in moat-oci: uidMappings/gidMappings honoured, files made inside owned by
// the mapped ids on the host, devices bound from the host (mknod is not allowed there).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../lib/bundle.js';
import { Scratch, parseProbe } from '../lib/oci.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';
const BASE = 300000;

function withUserns(c: any): void {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: BASE, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: BASE, size: 65536 }];
}

describe('user namespaces', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('the container sees its mapping and is root in it', async () => {
    const r = await s.run(withUserns, ['/bin/sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; /probe id']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines[0]!.trim().split(/\s+/).map(Number), [0, BASE, 65536]);
    assert.deepEqual(lines[1]!.trim().split(/\s+/).map(Number), [0, BASE, 65536]);
    const id = JSON.parse(lines[2]!);
    assert.equal(id.uid, 0);
  });

  test('a file made inside is owned on the host by the mapped ids', async () => {
    const b = s.bundle((c) => {
      withUserns(c);
      c.process.user = { uid: 1000, gid: 1000 };
      c.root.readonly = false;
      c.process.args = ['/bin/sh', '-c', 'echo hi > /tmp/made-inside'];
    });
    const r = await s.cli(['run', '-b', b.dir, `uns-${process.pid}`]);
    assert.equal(r.code, 0, r.stderr);
    const st = statSync(join(b.rootfs, 'tmp', 'made-inside'));
    assert.equal(st.uid, BASE + 1000);
    assert.equal(st.gid, BASE + 1000);
  });

  test('devices are the host\'s nodes bound in, and usable', async () => {
    const dev: any[] = await s.probe(['ls', '/dev'], withUserns);
    const n = dev.find((d) => d.name === 'null');
    assert.equal(n.type, 'char');
    assert.equal(n.major, 1);
    assert.equal(n.minor, 3);
    const w = await s.probe(['write', '/dev/null', 'x'], withUserns);
    assert.equal(w.ok, true);
  });

  test('host root is nobody inside: host-owned files cannot be written', async () => {
    const r = await s.probe(['write', '/bin/busybox', 'x'], (c) => {
      withUserns(c);
      c.root.readonly = false;
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_DAC_OVERRIDE');
    });
    assert.equal(r.ok, false);
    assert.equal(r.errno, 'EACCES');
  });
});

export { parseProbe };
