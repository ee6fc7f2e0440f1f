// Manager errors: a stable code per failure, the lower error kept as `cause`.

/** Stable codes for sandbox-manager failures. */
export type ManagerErrorCode =
  | 'ERR_SANDBOX_EXISTS'
  | 'ERR_SANDBOX_NOT_FOUND'
  | 'ERR_SANDBOX_RUNNING'
  | 'ERR_SANDBOX_NOT_RUNNING'
  | 'ERR_TEMPLATE'
  | 'ERR_LOCKED'
  | 'ERR_USERNS'
  | 'ERR_HOST'
  | 'ERR_MAC'
  | 'ERR_IO';

/** A failure of a sandbox operation; `message` carries the context of each layer. */
export class ManagerError extends Error {
  constructor(readonly code: ManagerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ManagerError';
  }
}

/** Adds one layer of context to an error, keeping its code (and config issues). */
export function withSandboxContext(err: unknown, context: string): Error {
  const e = err as Error & { code?: string; issues?: unknown };
  if (e && e.issues) return e;
  if (err instanceof Error) {
    const out = new Error(`${context}: ${err.message}`, { cause: err });
    Object.assign(out, { code: e.code ?? 'ERR_IO', name: err.name });
    return out;
  }
  return new ManagerError('ERR_IO', `${context}: ${String(err)}`, { cause: err });
}
