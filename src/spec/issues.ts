// Config issues: problems in user input, collected (never thrown one at a time) so the CLI
// can print all of them and refuse to act. `path` is a JSON path into the user's document,
// e.g. `linux.seccomp.syscalls[3].names[0]`.

/** One problem found in user input. */
export interface ConfigIssue {
  code: string;
  path: string;
  message: string;
}

/** Collects issues while a document is walked. */
export class IssueList {
  readonly items: ConfigIssue[] = [];
  add(code: string, path: string, message: string): void {
    this.items.push({ code, path, message });
  }
  get ok(): boolean {
    return this.items.length === 0;
  }
}

/** Thrown by APIs that refuse to act because their input had config issues. */
export class ConfigError extends Error {
  readonly code = 'ERR_INVALID_CONFIG';
  constructor(readonly issues: ConfigIssue[], context = 'invalid configuration') {
    super(`${context}:\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Joins a JSON path and a key or index the way zod prints them. */
export function jsonPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}
