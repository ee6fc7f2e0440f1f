// Runtime errors: Error subclasses with a stable code, the lower error kept as `cause`.
import { constants } from 'node:os';

/** Stable codes for runtime failures. */
export type RuntimeErrorCode =
  | 'ERR_CONTAINER_EXISTS'
  | 'ERR_NOT_FOUND'
  | 'ERR_NOT_RUNNING'
  | 'ERR_RUNNING'
  | 'ERR_NOT_CREATED'
  | 'ERR_LOCKED'
  | 'ERR_HELPER'
  | 'ERR_HOOK'
  | 'ERR_INVALID_ID'
  | 'ERR_UNSUPPORTED'
  | 'ERR_CGROUP'
  | 'ERR_MAC'
  | 'ERR_IO';

/** A runtime failure; `message` carries the context added by each layer. */
export class RuntimeError extends Error {
  constructor(readonly code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v as number, k]));

/** The symbolic name of an errno number (`ENOENT`), or `errno N`. */
export function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}

/** Adds one layer of context to an error without losing its code. */
export function withContext(err: unknown, context: string): Error {
  if (err instanceof RuntimeError) return new RuntimeError(err.code, `${context}: ${err.message}`, { cause: err.cause ?? err });
  const e = err as NodeJS.ErrnoException;
  return new RuntimeError('ERR_IO', `${context}: ${e?.message ?? String(err)}`, { cause: err });
}
