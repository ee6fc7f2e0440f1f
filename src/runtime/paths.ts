// Where moat's own files are: the native helper next to the compiled code.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Absolute path of the moat-helper binary (MOAT_HELPER overrides it, for tests). */
export function helperPath(): string {
  if (process.env.MOAT_HELPER) return process.env.MOAT_HELPER;
  if (cached) return cached;
  // this file is dist/src/runtime/paths.js (or bundled one level up): walk up to the repo
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const p = join(dir, 'native', 'moat-helper');
    if (existsSync(p)) return (cached = p);
  }
  throw new Error('moat-helper not found: run `npm run build`');
}
