// Reads a bundle's config.json and compiles what the plan needs from it (seccomp), so
// that every config issue is reported before anything is made on the host.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../spec/issues.js';
import { parseOciConfig } from '../spec/parse-oci.js';
import type { OciSpec } from '../spec/oci-types.js';
import { splitSeccompIssues, type CompiledSeccomp } from '../policy/seccomp/index.js';
import { compileSeccompCached } from './seccomp-cache.js';
import { RuntimeError } from './errors.js';

/** A validated spec and what was compiled from it. */
export interface LoadedSpec {
  bundle: string;
  spec: OciSpec;
  seccomp?: CompiledSeccomp;
  warnings: ConfigIssue[];
  /** config.json's bytes, as parsed (the key of the Plan cache, plan-cache.ts) */
  raw?: Buffer;
}

/** Parses and checks a spec document (from config.json or an in-memory object). With
 * `cacheRoot` (a state root), the compiled seccomp filter is cached there by content. */
export function checkSpec(doc: unknown, bundle: string, cacheRoot?: string): LoadedSpec {
  const parsed = parseOciConfig(doc);
  const issues = [...parsed.issues];
  const warnings = [...parsed.warnings];
  let seccomp: CompiledSeccomp | undefined;
  if (parsed.spec?.linux?.seccomp) {
    const r = compileSeccompCached(parsed.spec.linux.seccomp, 'x86_64', cacheRoot);
    const split = splitSeccompIssues(r.issues);
    issues.push(...split.errors);
    warnings.push(...split.warnings);
    seccomp = r.result;
  }
  if (issues.length || !parsed.spec) throw new ConfigError(issues, `invalid config in \`${bundle}\``);
  return seccomp ? { bundle, spec: parsed.spec, seccomp, warnings } : { bundle, spec: parsed.spec, warnings };
}

/** Loads `<bundle>/config.json` (`cacheRoot`: as for checkSpec). */
export function loadBundle(bundleDir: string, cacheRoot?: string): LoadedSpec {
  const bundle = resolve(bundleDir);
  let doc: unknown, raw: Buffer;
  try {
    raw = readFileSync(join(bundle, 'config.json'));
    doc = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new RuntimeError('ERR_NOT_FOUND', `no config.json in bundle \`${bundle}\``);
    throw new RuntimeError('ERR_IO', `read \`${join(bundle, 'config.json')}\`: ${err.message}`, { cause: e });
  }
  return { ...checkSpec(doc, bundle, cacheRoot), raw };
}
