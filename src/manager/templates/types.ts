// What a template is: how it lays out a new sandbox's root, and what it binds in at start.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { ConfigIssue } from '../../spec/issues.js';
import type { OciMount } from '../../spec/oci-types.js';

/** A template: makes a sandbox's root once, and names the mounts that complete it. */
export interface Template {
  name: string;
  description: string;
  /** why this host cannot make sandboxes from this template (empty when it can) */
  hostIssues(): ConfigIssue[];
  /** lays out `rootfs` (a fresh empty dir in the staging area of data dir `dataDir`) */
  prepare(rootfs: string, hostname: string, dataDir: string): void;
  /** makes what the template's sandboxes share (a cache under the data dir) unless it exists;
   * run before `prepare`, outside the sandbox's lock; `progress` writes to the user */
  ensureShared?(dataDir: string, progress: (s: string) => void): Promise<void>;
  /** for a root that is an overlay: its shared read-only lower dirs (top first); `rootfs`,
   * the sandbox's own, is the upper dir, and the whole root is writable */
  rootOverlay?(rootfs: string, dataDir: string): string[];
  /** the process an image asks for (used where the sandbox gives none) */
  imageProcess?(rootfs: string, dataDir: string): { args?: string[]; env?: string[]; cwd?: string; user?: { uid: number; gid: number } };
  /** mounts of host content, read-only, added to the spec at each start */
  mounts(rootfs: string): OciMount[];
  /** mounts that go over the writable dirs (shared read-only parts of /etc) */
  lateMounts?(rootfs: string): OciMount[];
  /** dirs of the rootfs bound writable over the read-only root (persistent, private) */
  writable: string[];
  /** the PATH of processes in the sandbox */
  path: string;
  /** what runs when no command is given: an idle init that stops on SIGTERM */
  idleCommand: string[];
}

/** The overlay work dir of a sandbox whose root is an overlay (next to its upper dir). */
export function overlayWorkDir(rootfs: string): string {
  return `${rootfs}.work`;
}

/** Records the lower dirs of an overlay root at create (relative to the data dir), so that
 * every start uses the layers the sandbox was made from. */
export function writeOverlayLowers(rootfs: string, dataDir: string, lowers: string[]): void {
  writeFileSync(`${rootfs}.lower.json`, JSON.stringify(lowers.map((l) => relative(dataDir, l))) + '\n', { mode: 0o644 });
}

/** The lower dirs recorded by writeOverlayLowers, as absolute paths. */
export function readOverlayLowers(rootfs: string, dataDir: string): string[] {
  return (JSON.parse(readFileSync(`${rootfs}.lower.json`, 'utf8')) as string[]).map((l) => resolve(dataDir, l));
}

/** Options of a read-only bind of host content: recursive, no setuid, no devices. */
export const RO_BIND = ['rbind', 'ro', 'rro', 'nosuid', 'rnosuid', 'nodev', 'rnodev'];

/** An idle pid 1 that exits at SIGTERM (pid 1 ignores signals it has no handler for). */
export const IDLE_SH = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];
