// OCI image layouts on disk (image-spec `image-layout.md`): `oci-layout`, `index.json` ->
// manifest -> config and layers, every blob under `blobs/sha256/` and checked against its
// digest. Layers are unpacked once per data dir into `<data>/cache/oci/layers/HEX/` (shared by
// every image that has them) with their whiteouts made overlay whiteouts, so that a
// sandbox's root is an overlay of the image's layers under its own upper dir.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { x as untar } from 'tar';
import type { ConfigIssue } from '../../spec/issues.js';
import { ManagerError } from '../errors.js';
import { buildCacheOnce, cacheRoot } from './cache.js';
import { makeWhiteout, markOpaque } from './whiteout.js';

/** A content descriptor (image-spec `descriptor.md`). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
}

/** What moat takes from an image config (image-spec `config.md`, `config` object). */
export interface ImageProcess {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

/** An image read from a layout: its manifest's digest, config and layers, bottom first. */
export interface OciImage {
  dir: string;
  manifestDigest: string;
  layers: Descriptor[];
  config: ImageProcess;
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
const LAYER_TYPES: Record<string, 'tar' | 'gzip'> = {
  'application/vnd.oci.image.layer.v1.tar': 'tar',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'tar',
};

/** An image problem, reported against `--template`. */
class ImageError extends ManagerError {
  constructor(dir: string, message: string) {
    super('ERR_TEMPLATE', `template \`oci:${dir}\`: ${message}`);
  }
}

function hexOf(dir: string, d: { digest?: unknown }, what: string): string {
  const m = typeof d.digest === 'string' ? /^sha256:([a-f0-9]{64})$/.exec(d.digest) : null;
  if (!m) throw new ImageError(dir, `${what}: digest \`${String(d.digest)}\` is not sha256:HEX (only sha256 is supported)`);
  return m[1]!;
}

/** Path of a blob in the layout. */
export function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/** Reads a small blob (manifest, config) and checks its size and digest. */
function readBlob(dir: string, d: Descriptor, what: string): Buffer {
  const hex = hexOf(dir, d, what);
  let b: Buffer;
  try {
    b = readFileSync(blobPath(dir, d.digest));
  } catch {
    throw new ImageError(dir, `${what}: blob \`${d.digest}\` is missing`);
  }
  if (typeof d.size === 'number' && b.length !== d.size) throw new ImageError(dir, `${what}: blob \`${d.digest}\` has ${b.length} bytes, the descriptor says ${d.size}`);
  if (createHash('sha256').update(b).digest('hex') !== hex) throw new ImageError(dir, `${what}: blob \`${d.digest}\` does not match its digest`);
  return b;
}

function parseJson(dir: string, b: Buffer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(b.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new ImageError(dir, `${what} is not a JSON object`);
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** Picks this machine's manifest from an index (the only one if there is one). */
function pickManifest(dir: string, manifests: Descriptor[], what: string): Descriptor {
  if (!manifests.length) throw new ImageError(dir, `${what} lists no manifests`);
  if (manifests.length === 1) return manifests[0]!;
  const arch = ARCH[process.arch] ?? process.arch;
  const m = manifests.find((x) => (x.platform?.os ?? 'linux') === 'linux' && x.platform?.architecture === arch);
  if (!m) throw new ImageError(dir, `${what} has no manifest for linux/${arch}`);
  return m;
}

/** Reads and checks an image layout (every small blob's digest; layers are checked when
 * they are unpacked). */
export function readOciImage(dir: string): OciImage {
  if (!existsSync(join(dir, 'oci-layout'))) throw new ImageError(dir, 'not an OCI image layout (no `oci-layout` file)');
  const layout = parseJson(dir, readFileSync(join(dir, 'oci-layout')), '`oci-layout`');
  if (layout.imageLayoutVersion !== '1.0.0') throw new ImageError(dir, `image layout version \`${String(layout.imageLayoutVersion)}\` is not 1.0.0`);
  let index: Record<string, unknown>;
  try {
    index = parseJson(dir, readFileSync(join(dir, 'index.json')), '`index.json`');
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(dir, 'no `index.json`');
  }
  let desc = pickManifest(dir, (index.manifests as Descriptor[] | undefined) ?? [], '`index.json`');
  for (let depth = 0; INDEX_TYPES.includes(desc.mediaType); depth++) {
    if (depth > 4) throw new ImageError(dir, 'indexes nest too deep');
    const nested = parseJson(dir, readBlob(dir, desc, 'index'), `index \`${desc.digest}\``);
    desc = pickManifest(dir, (nested.manifests as Descriptor[] | undefined) ?? [], `index \`${desc.digest}\``);
  }
  if (!MANIFEST_TYPES.includes(desc.mediaType)) throw new ImageError(dir, `manifest \`${desc.digest}\` has media type \`${desc.mediaType}\`, not an image manifest`);
  const manifest = parseJson(dir, readBlob(dir, desc, 'manifest'), `manifest \`${desc.digest}\``);
  const configDesc = manifest.config as Descriptor | undefined;
  if (!configDesc?.digest) throw new ImageError(dir, `manifest \`${desc.digest}\` has no config`);
  const config = parseJson(dir, readBlob(dir, configDesc, 'config'), `config \`${configDesc.digest}\``);
  const layers = (manifest.layers as Descriptor[] | undefined) ?? [];
  layers.forEach((l, i) => {
    hexOf(dir, l, `layers[${i}]`);
    if (!LAYER_TYPES[l.mediaType]) throw new ImageError(dir, `layers[${i}] \`${l.digest}\`: media type \`${l.mediaType}\` is not supported (tar and tar+gzip are)`);
  });
  const c = (config.config ?? {}) as ImageProcess;
  const strings = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
  const proc: ImageProcess = {};
  if (strings(c.Entrypoint)) proc.Entrypoint = strings(c.Entrypoint)!;
  if (strings(c.Cmd)) proc.Cmd = strings(c.Cmd)!;
  if (strings(c.Env)) proc.Env = strings(c.Env)!.filter((e) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(e));
  if (typeof c.WorkingDir === 'string' && c.WorkingDir.startsWith('/')) proc.WorkingDir = c.WorkingDir;
  if (typeof c.User === 'string' && c.User) proc.User = c.User;
  return { dir, manifestDigest: desc.digest, layers, config: proc };
}

/** Why `oci:DIR` cannot be used (empty when it can). */
export function ociImageIssues(dir: string): ConfigIssue[] {
  try {
    readOciImage(dir);
    return [];
  } catch (e) {
    return [{ code: 'ERR_TEMPLATE', path: '--template', message: (e as Error).message }];
  }
}

/** Where an unpacked layer lives. */
export function layerDir(dataDir: string, digest: string): string {
  return join(cacheRoot(dataDir), 'oci', 'layers', digest.slice('sha256:'.length));
}

/** Checks a layer blob's size and sha256 by streaming it. */
async function verifyLayer(dir: string, l: Descriptor, i: number): Promise<void> {
  const path = blobPath(dir, l.digest);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new ImageError(dir, `layers[${i}]: blob \`${l.digest}\` is missing`);
  }
  if (typeof l.size === 'number' && size !== l.size) throw new ImageError(dir, `layers[${i}]: blob \`${l.digest}\` has ${size} bytes, the descriptor says ${l.size}`);
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  if (h.digest('hex') !== l.digest.slice('sha256:'.length)) throw new ImageError(dir, `layers[${i}]: blob \`${l.digest}\` does not match its digest`);
}

/** Unpacks one layer into `stage`, turning `.wh.NAME` into overlay whiteouts and
 * `.wh..wh..opq` into opaque dirs. Device nodes in a layer are skipped. */
async function unpackLayer(dir: string, l: Descriptor, i: number, stage: string): Promise<void> {
  const whiteouts: string[] = [];
  const opaque: string[] = [];
  const problems: string[] = [];
  await untar({
    file: blobPath(dir, l.digest), cwd: stage, preserveOwner: true, gzip: LAYER_TYPES[l.mediaType] === 'gzip' ? true : undefined,
    // node-tar refuses absolute paths, `..` and extraction through symlinks by default
    filter: (path) => {
      const p = posix.normalize(path).replace(/^\.?\/+/, '').replace(/\/$/, '');
      const base = posix.basename(p);
      if (base === '.wh..wh..opq') opaque.push(posix.dirname(p));
      else if (base.startsWith('.wh.')) whiteouts.push(posix.join(posix.dirname(p), base.slice(4)));
      else return true;
      return false;
    },
    onwarn: (code, message) => {
      if (code !== 'TAR_ENTRY_UNSUPPORTED' && code !== 'TAR_ENTRY_INFO') problems.push(`${code}: ${message}`);
    },
  });
  if (problems.length) throw new ImageError(dir, `layers[${i}] \`${l.digest}\`: ${problems.slice(0, 3).join('; ')}`);
  // a whiteout names a path the layer itself may have made a symlink on the way to (`etc ->
  // /`, then `etc/.wh.passwd`): every dir on the way is made or checked to be a real dir, never
  // followed, so a whiteout is only ever made inside the layer
  const inside = (p: string, what: string) => {
    const parts = p.split('/').filter((x) => x && x !== '.');
    if (parts.includes('..')) throw new ImageError(dir, `layers[${i}]: ${what} \`${p}\` is outside the layer`);
    let at = stage;
    for (const part of parts.slice(0, -1)) {
      at = join(at, part);
      const st = lstatSync(at, { throwIfNoEntry: false });
      if (!st) mkdirSync(at, { mode: 0o755 });
      else if (!st.isDirectory()) throw new ImageError(dir, `layers[${i}]: ${what} \`${p}\` goes through \`${part}\`, which is not a directory`);
    }
    return parts.length ? join(at, parts.at(-1)!) : stage;
  };
  for (const d of opaque) {
    const abs = inside(`${d}/x`, 'opaque dir').slice(0, -2);
    markOpaque(abs);
  }
  for (const w of whiteouts) {
    const abs = inside(w, 'whiteout');
    if (!lstatSync(abs, { throwIfNoEntry: false })) makeWhiteout(abs);
  }
}

/** Unpacks every layer of an image not yet in the cache; returns the layer dirs, top first. */
export async function ensureImageLayers(dataDir: string, image: OciImage, progress: (s: string) => void): Promise<string[]> {
  const dirs: string[] = [];
  for (const [i, l] of image.layers.entries()) {
    const target = layerDir(dataDir, l.digest);
    await buildCacheOnce(target, `layer \`${l.digest}\``, async (stage) => {
      progress(`moat: unpacking layer ${i + 1}/${image.layers.length} ${l.digest.slice(0, 19)} of \`${basename(image.dir)}\`\n`);
      await verifyLayer(image.dir, l, i);
      await unpackLayer(image.dir, l, i, stage);
    });
    dirs.push(target);
  }
  return dirs.reverse();
}
