// Sandbox names: they become a directory name, a runtime container ID, a cgroup name and
// the default hostname, so they are kept to what is safe in all four.
import type { ConfigIssue } from '../spec/issues.js';

const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;

/** The issue with a sandbox name, or undefined if it is valid. */
export function sandboxNameIssue(name: string, path = 'NAME'): ConfigIssue | undefined {
  if (NAME_RE.test(name) && !name.includes('..')) return undefined;
  return { code: 'ERR_INVALID_NAME', path, message: `invalid sandbox name \`${name}\`: use 1-63 letters, digits and \`_.-\`, starting with a letter or digit` };
}
