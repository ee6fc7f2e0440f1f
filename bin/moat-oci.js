#!/usr/bin/env node
// moat-oci. Start-up is most of a short container's life, so this loads the one-file bundle
// that scripts/bundle.mjs makes from tsc's output (one file instead of ~80 ES modules). A
// missing bundle, or one older than tsc's last output (tsc rewrites every file of dist/src on
// each build), means dist/src is loaded module by module.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/bundle/moat-oci.cjs', import.meta.url));
const tscOutput = fileURLToPath(new URL('../dist/src/cli/oci/main.js', import.meta.url));

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs >= statSync(tscOutput).mtimeMs;
  } catch {
    return false;
  }
}

const { main } = bundleIsFresh() ? createRequire(import.meta.url)(bundle) : await import('../dist/src/cli/oci/main.js');
main(process.argv.slice(2));
