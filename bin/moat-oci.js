#!/usr/bin/env node
// moat-oci, for callers that name this file: the entry is bin/moat-oci.cjs (CommonJS starts faster).
import './moat-oci.cjs';
