#!/usr/bin/env node
'use strict';
// moat-oci. Start-up is most of a short container's life, so this is CommonJS (an ES module
// entry costs Node's ESM loader, and `import` of node:fs loads its streams: ~10 ms) and loads
// the one-file bundle that scripts/bundle.mjs makes from tsc's output (one file instead of ~80
// ES modules). A missing bundle, or one older than tsc's last output (tsc rewrites every file
// of dist/src on each build), means dist/src is loaded module by module.
const { statSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'bundle', 'moat-oci.cjs');
const tscOutput = join(__dirname, '..', 'dist', 'src', 'cli', 'oci', 'main.js');

function bundleIsFresh() {
  try {
    return statSync(bundle).mtimeMs >= statSync(tscOutput).mtimeMs;
  } catch {
    return false;
  }
}

if (bundleIsFresh()) require(bundle).main(process.argv.slice(2));
else import(require('node:url').pathToFileURL(tscOutput).href).then((m) => m.main(process.argv.slice(2)));
