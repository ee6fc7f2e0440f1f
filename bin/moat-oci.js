#!/usr/bin/env node
import { main } from '../dist/src/cli/oci/main.js';
main(process.argv.slice(2));
