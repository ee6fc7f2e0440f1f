// The shapes the cgroup runtime layer passes around; plain data so a ContainerCgroup can live in a state file.
import type { ConfigIssue } from '../../spec/issues.js';

/** How the host mounts cgroups: v1 only, v1 plus a cgroup2 hierarchy (hybrid), or cgroup2 only. */
export type CgroupMode = 'v1' | 'hybrid' | 'unified';

/** What `probeCgroupHost` learned about this host's cgroup mounts and this process's place in them. */
export interface CgroupHost {
  mode: CgroupMode;
  /** usually `/sys/fs/cgroup` */
  root: string;
  /** v1 controller (or `name=systemd`) -> mount dir; comounted controllers share a dir */
  v1: Record<string, string>;
  /** the cgroup2 mount dir */
  unified?: string;
  /** controllers available to our own cgroup2 cgroup (its `cgroup.controllers`) */
  unifiedControllers: string[];
  /** controller (`''` for cgroup2) -> this process's cgroup path, relative to that hierarchy's mount dir */
  self: Record<string, string>;
}

/** A container's cgroup: the dirs it lives in and exactly which of them moat created. */
export interface ContainerCgroup {
  mode: CgroupMode;
  /** controller -> absolute dir; key `unified` for the cgroup2 dir */
  dirs: Record<string, string>;
  /** dirs this code created, parents before children (remove in reverse) */
  created: string[];
  /** the device program for the C helper to BPF_PROG_ATTACH (BPF_F_ALLOW_MULTI) to `dir` */
  deviceBpf?: { dir: string; insns: string };
  /** dirs delegated to the container's root (delegate-container-cgroup.ts): it may have made
   * cgroups beneath them, which delete removes first */
  delegated?: string[];
  /** downgrades accepted because of `bestEffort`, or fields the kernel ignores */
  notes?: ConfigIssue[];
}
