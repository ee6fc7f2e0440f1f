// The busybox template: a tiny root whose one program is the host's static busybox
// (Debian's busybox-static), bound read-only, with a symlink per applet.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostsFile } from './etc-seeds.js';
import { makeSkeleton } from './skeleton.js';
import { IDLE_SH, RO_BIND, type Template } from './types.js';

/** Where Debian's busybox-static installs busybox. */
export const HOST_BUSYBOX = '/bin/busybox';

/** True if the file is a 64-bit ELF without a program interpreter (statically linked). */
export function isStaticElf(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false;
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54), phnum = head.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    closeSync(fd);
  }
}

export const busyboxTemplate: Template = {
  name: 'busybox',
  description: "a tiny root with the host's static busybox",
  hostIssues: () =>
    isStaticElf(HOST_BUSYBOX) ? [] : [{ code: 'ERR_TEMPLATE', path: '--template', message: `template \`busybox\` needs a static ${HOST_BUSYBOX}: apt-get install busybox-static` }],
  prepare(rootfs, hostname) {
    makeSkeleton(rootfs);
    mkdirSync(join(rootfs, 'bin'), { mode: 0o755 });
    writeFileSync(join(rootfs, 'bin/busybox'), '', { mode: 0o755 }); // the mountpoint
    for (const d of ['sbin', 'usr']) symlinkSync(d === 'usr' ? '.' : 'bin', join(rootfs, d));
    const applets = execFileSync(HOST_BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n');
    for (const a of applets) if (/^[\w.[-]+$/.test(a) && a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
    const etc = join(rootfs, 'etc');
    writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    writeFileSync(join(etc, 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
    writeFileSync(join(etc, 'hostname'), `${hostname}\n`);
    writeFileSync(join(etc, 'hosts'), hostsFile(hostname));
  },
  mounts() {
    return [{ destination: '/bin/busybox', type: 'bind', source: HOST_BUSYBOX, options: [...RO_BIND] }];
  },
  writable: ['etc', 'var', 'root', 'home'],
  path: '/bin',
  idleCommand: IDLE_SH,
};
