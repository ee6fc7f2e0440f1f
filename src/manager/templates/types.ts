// What a template is: how it lays out a new sandbox's root, and what it binds in at start.
import type { ConfigIssue } from '../../spec/issues.js';
import type { OciMount } from '../../spec/oci-types.js';

/** A template: makes a sandbox's root once, and names the mounts that complete it. */
export interface Template {
  name: string;
  description: string;
  /** why this host cannot make sandboxes from this template (empty when it can) */
  hostIssues(): ConfigIssue[];
  /** lays out `rootfs` (a fresh empty dir in the staging area) */
  prepare(rootfs: string, hostname: string): void;
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

/** Options of a read-only bind of host content: recursive, no setuid, no devices. */
export const RO_BIND = ['rbind', 'ro', 'rro', 'nosuid', 'rnosuid', 'nodev', 'rnodev'];

/** An idle pid 1 that exits at SIGTERM (pid 1 ignores signals it has no handler for). */
export const IDLE_SH = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];
