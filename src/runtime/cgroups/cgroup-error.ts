// The runtime error for cgroup file system failures.

/** A cgroupfs operation failed; `cause` keeps the lower error (errno and syscall). */
export class CgroupError extends Error {
  readonly code = 'ERR_CGROUP';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CgroupError';
  }
}

/** The errno name of a node fs error, or `error` when there is none. */
export function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'error';
}
