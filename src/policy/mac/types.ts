// The one interface every MAC backend (SELinux, AppArmor, Smack, none) implements. What the
// host has arrives as a value (MacHost, probed by src/runtime/mac); nothing here touches files.

/** The MAC backends moat drives besides Landlock. */
export type MacBackendName = 'selinux' | 'apparmor' | 'smack';

/** What the host's kernel offers, as probed by src/runtime/mac/host.ts. */
export interface MacHost {
  /** `/sys/kernel/security/lsm`, in order (empty when securityfs is not mounted) */
  lsms: string[];
  /** SELinux with selinuxfs mounted and a policy loaded */
  selinux?: { enforcing: boolean; mls: boolean; policyLoaded: boolean };
  /** AppArmor enabled; `parser` is apparmor_parser's path when found */
  apparmor?: { parser?: string; attrDir: boolean };
  /** Smack with smackfs mounted (`load2` present) */
  smack?: { load2: boolean };
}

/** The exact write to a proc attr file that applies a label. */
export interface MacAttrWrite {
  backend: MacBackendName;
  /** the file, e.g. `/proc/thread-self/attr/exec` */
  path: string;
  /** tried when `path` does not exist (an older kernel) */
  fallback?: string;
  /** the bytes written, in one write(2) */
  value: string;
  /** `exec`: takes effect at the next execve (written just before it); `current`: at once
   * (written before the user namespace is entered, while CAP_MAC_ADMIN is held) */
  when: 'exec' | 'current';
  /** the config field the label came from */
  origin: string;
}

/** What one backend makes of a container. */
export interface MacBackendResult {
  backend: MacBackendName;
  /** the process label (SELinux context, AppArmor profile, Smack label) */
  label: string;
  /** none when only files are labelled (a `linux.mountLabel` without a process label) */
  attr?: MacAttrWrite;
  /** extra mount data for a filesystem type (`context="..."`, `smackfsroot=...`) */
  mountData: Partial<Record<string, string[]>>;
  /** Smack access rules for `/sys/fs/smackfs/load2` (`subject object access`) */
  smackRules?: string[];
  /** capabilities the container must never hold under this backend */
  forbiddenCaps?: string[];
}

/** One config problem (same shape as spec/issues ConfigIssue). */
export interface MacIssue {
  code: string;
  path: string;
  message: string;
}
