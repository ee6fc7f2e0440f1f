// Networking failures: a stable code each, like the manager's.

/** Stable codes of networking failures. */
export type NetworkErrorCode =
  | 'ERR_NETWORK_NOT_FOUND'
  | 'ERR_NETWORK_EXISTS'
  | 'ERR_NETWORK_IN_USE'
  | 'ERR_NETWORK_HOST'
  | 'ERR_NETWORK_CNI'
  | 'ERR_PORT_IN_USE'
  | 'ERR_NETWORK_HELPER';

/** A networking failure. */
export class NetworkError extends Error {
  constructor(readonly code: NetworkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkError';
  }
}
