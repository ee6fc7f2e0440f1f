// The oci:DIR template, on an image layout this test writes itself from busybox-static: two
// layers (tar+gzip, then plain tar with a whiteout and an opaque dir), a config with
// Entrypoint/Cmd/Env/WorkingDir. Layers are unpacked once per data dir and shared; every blob
// is checked against its digest; the image's whiteouts hide what they delete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isRoot, isStaticElf, removeTree } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch } from '../lib/moat.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/bin/busybox') || !isStaticElf('/bin/busybox') ? 'needs busybox-static' : false;

/** Writes a blob; returns its descriptor. */
function blob(layout: string, data: Buffer, mediaType: string): { mediaType: string; digest: string; size: number } {
  const hex = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(layout, 'blobs/sha256', hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

/** A tar of a directory's contents, owned by root (GNU tar). */
function tarOf(dir: string): Buffer {
  return execFileSync('tar', ['-C', dir, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
}

function makeImage(work: string, layout: string): void {
  const l1 = join(work, 'l1'), l2 = join(work, 'l2');
  for (const d of ['bin', 'etc', 'app', 'data/old']) mkdirSync(join(l1, d), { recursive: true });
  copyFileSync('/bin/busybox', join(l1, 'bin/busybox'));
  chmodSync(join(l1, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'cat', 'ls', 'echo', 'test', 'id', 'sleep', 'pwd', 'env', 'stat', 'touch', 'grep']) symlinkSync('busybox', join(l1, 'bin', a));
  writeFileSync(join(l1, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n');
  writeFileSync(join(l1, 'etc/removed'), 'layer 1\n');
  writeFileSync(join(l1, 'data/old/file'), 'hidden by the opaque dir\n');
  writeFileSync(join(l1, 'data/kept'), 'kept\n');
  for (const d of ['etc', 'data/old']) mkdirSync(join(l2, d), { recursive: true });
  writeFileSync(join(l2, 'etc/.wh.removed'), '');
  writeFileSync(join(l2, 'data/old/.wh..wh..opq'), '');
  writeFileSync(join(l2, 'data/old/new'), 'layer 2\n');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const layers = [
    blob(layout, gzipSync(tarOf(l1)), 'application/vnd.oci.image.layer.v1.tar+gzip'),
    blob(layout, tarOf(l2), 'application/vnd.oci.image.layer.v1.tar'),
  ];
  const config = blob(layout, Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo "$GREETING from $(pwd) as $(id -u)"'], Env: ['PATH=/bin', 'GREETING=hello'], WorkingDir: '/app', User: 'app' },
    rootfs: { type: 'layers', diff_ids: [] },
  })), 'application/vnd.oci.image.config.v1+json');
  const manifest = blob(layout, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers })), 'application/vnd.oci.image.manifest.v1+json');
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [manifest] }));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

describe('moat: the oci:DIR template', { skip }, () => {
  let s: MoatScratch;
  let work: string;
  let image: string;
  before(() => {
    s = new MoatScratch();
    work = mkdtempSync(join(tmpdir(), 'moat-oci-image-'));
    image = join(work, 'image');
    mkdirSync(image);
    makeImage(work, image);
  });
  after(async () => {
    await s.cleanup();
    removeTree(work);
  });

  const layers = () => readdirSync(join(s.data, 'cache/oci/layers')).filter((n) => !n.startsWith('.') && !n.endsWith('.lock'));

  test('run without a command runs the image\'s, with its env, working dir and user', async () => {
    const r = await s.moat(['run', '--rm', '--template', `oci:${image}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from /app as 1000\n');
    assert.match(r.stderr, /unpacking layer 1\/2/);
    assert.equal(layers().length, 2);
    const r2 = await s.moat(['run', '--rm', '--template', `oci:${image}`, '--env', 'GREETING=hi', '--', 'sh', '-c', 'echo $GREETING; id -u']);
    assert.equal(r2.stdout, 'hi\n1000\n');
    assert.doesNotMatch(r2.stderr, /unpacking/, 'the layers are unpacked once');
  });

  test('whiteouts and opaque dirs of a layer hide what lower layers had', async () => {
    await s.ok(['create', 'img1', '--template', `oci:${image}`, '--', 'sleep', '1000']);
    await s.ok(['start', 'img1']);
    const out = await s.ok(['exec', 'img1', '--', 'sh', '-c', 'ls /etc; ls /data/old; cat /data/kept']);
    assert.doesNotMatch(out, /removed/);
    assert.match(out, /passwd/);
    assert.match(out, /^new$/m);
    assert.doesNotMatch(out, /^file$/m);
    assert.match(out, /^kept$/m);
  });

  test('two sandboxes share the layers; writes stay in each one\'s upper dir', async () => {
    const ino = layers().map((l) => statSync(join(s.data, 'cache/oci/layers', l)).ino).sort();
    await s.ok(['create', 'img2', '--template', `oci:${image}`, '--', 'sleep', '1000']);
    await s.ok(['start', 'img2']);
    assert.deepEqual(layers().map((l) => statSync(join(s.data, 'cache/oci/layers', l)).ino).sort(), ino);
    // the image's user (1000) may not write the root-owned /app: the image's root may
    assert.match((await s.moat(['exec', 'img1', '--', 'touch', '/app/x'])).stderr, /Permission denied/);
    await s.ok(['exec', '--user', '0', 'img1', '--', 'sh', '-c', 'echo mine > /app/note; rm /data/kept']);
    const other = await s.moat(['exec', 'img2', '--', 'sh', '-c', 'cat /app/note; cat /data/kept']);
    assert.equal(other.stdout, 'kept\n');
    for (const l of layers()) {
      assert.ok(!existsSync(join(s.data, 'cache/oci/layers', l, 'app/note')));
    }
    assert.ok(existsSync(join(s.data, 'sandboxes/img1/rootfs/app/note')));
    // a clone keeps the upper layer and the image's config (its user, its working dir)
    await s.ok(['stop', '--time', '0', 'img1']);
    await s.ok(['clone', 'img1', 'img1c']);
    await s.ok(['start', 'img1c']);
    assert.equal(await s.ok(['exec', 'img1c', '--', 'sh', '-c', 'cat note; id -u; test -e /data/kept || echo kept-gone']), 'mine\n1000\nkept-gone\n');
    for (const n of ['img1', 'img1c', 'img2']) {
      await s.ok(['delete', '--force', n]);
      assertSandboxGone(s, n);
    }
  });

  test('a blob that does not match its digest is refused, and nothing is made', async () => {
    const bad = join(work, 'bad');
    execFileSync('cp', ['-a', image, bad]);
    const manifest = JSON.parse(readFileSync(join(bad, 'index.json'), 'utf8')).manifests[0].digest as string;
    const m = JSON.parse(readFileSync(join(bad, 'blobs/sha256', manifest.slice(7)), 'utf8'));
    const layer = join(bad, 'blobs/sha256', (m.layers[1].digest as string).slice(7));
    const data = readFileSync(layer);
    data[data.length - 1024] ^= 1;
    writeFileSync(layer, data);
    // a fresh data dir, so the layer is not in the cache already
    const s2 = new MoatScratch();
    try {
      const r = await s2.moat(['create', 'tampered', '--template', `oci:${bad}`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /layers\[1\]: blob `sha256:[0-9a-f]{64}` does not match its digest/);
      assert.deepEqual(s2.sandboxDirs(), []);
      assert.equal(existsSync(join(s2.data, 'cache/oci/layers', (m.layers[1].digest as string).slice(7))), false, 'no layer cached');
      assert.deepEqual(readdirSync(join(s2.data, 'cache/oci/layers')).filter((n) => n.includes('staging')), []);
    } finally {
      await s2.cleanup();
    }
  });

  test('a whiteout through a symlink the layer made is refused: nothing is made outside the layer', async () => {
    // layer: `evil -> VICTIM` (a host dir), then `evil/.wh.target` and `evil/.wh..wh..opq`
    const victim = join(work, 'victim');
    mkdirSync(victim);
    const a = join(work, 'evil-a'), b = join(work, 'evil-b');
    mkdirSync(a);
    mkdirSync(join(b, 'evilX'), { recursive: true });
    symlinkSync(victim, join(a, 'evil'));
    writeFileSync(join(b, 'evilX', '.wh.target'), '');
    writeFileSync(join(b, 'evilX', '.wh..wh..opq'), '');
    const tar = join(work, 'evil.tar');
    execFileSync('tar', ['-C', a, '--owner=0', '--group=0', '-cf', tar, './evil']);
    execFileSync('tar', ['-C', b, '--owner=0', '--group=0', '--transform', 's,^\\./evilX,./evil,', '-rf', tar, './evilX/.wh.target', './evilX/.wh..wh..opq']);
    assert.match(execFileSync('tar', ['-tvf', tar], { encoding: 'utf8' }), /\.\/evil\/\.wh\.target/);
    const layout = join(work, 'evil-image');
    mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
    const layer = blob(layout, readFileSync(tar), 'application/vnd.oci.image.layer.v1.tar');
    const config = blob(layout, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } })), 'application/vnd.oci.image.config.v1+json');
    const manifest = blob(layout, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] })), 'application/vnd.oci.image.manifest.v1+json');
    writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [manifest] }));
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const r = await s.moat(['create', 'evil', '--template', `oci:${layout}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /goes through `evil`, which is not a directory/);
    assert.deepEqual(readdirSync(victim), [], 'no whiteout made in the host dir');
    assert.equal(execFileSync('getfattr', ['-d', '-m', '-', victim], { encoding: 'utf8' }), '', 'no opaque mark on the host dir');
    assert.ok(!s.sandboxDirs().includes('evil'));
  });

  test('a directory that is not an image layout is an error naming --template', async () => {
    const r = await s.moat(['create', 'x', '--template', `oci:${work}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--template/);
    assert.match(r.stderr, /not an OCI image layout/);
    assert.ok(!s.sandboxDirs().includes('x'));
  });
});
