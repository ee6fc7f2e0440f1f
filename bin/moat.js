#!/usr/bin/env node
import { main } from '../dist/src/cli/moat/main.js';
main(process.argv.slice(2));
