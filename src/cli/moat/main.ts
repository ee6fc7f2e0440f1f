// moat: named secure sandboxes (issue 7). Not built yet.
import { writeSync } from 'node:fs';

/** Runs the moat CLI. */
export async function main(argv: string[]): Promise<void> {
  void argv;
  writeSync(2, 'moat: the sandbox manager is not built yet; use moat-oci\n');
  process.exit(1);
}
