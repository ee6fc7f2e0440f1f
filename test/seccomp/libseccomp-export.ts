// Builds test/seccomp/export-libseccomp.c and runs it: libseccomp's filter for a profile.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/seccomp/ or test/seccomp/. */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/** A compiled exporter, or why there is none (gcc or libseccomp-dev missing). */
export type Exporter = { bin: string; cleanup: () => void; skip?: undefined } | { skip: string };

/** Compiles the exporter into a fresh temp dir; call cleanup() when done. */
export function buildLibseccompExporter(): Exporter {
  const src = join(repoRoot, 'test/seccomp/export-libseccomp.c');
  if (spawnSync('gcc', ['--version']).status !== 0) return { skip: 'gcc is not installed' };
  if (!existsSync('/usr/include/seccomp.h')) return { skip: 'libseccomp-dev is not installed (no /usr/include/seccomp.h)' };
  const dir = mkdtempSync(join(tmpdir(), 'moat-seccomp-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const bin = join(dir, 'export-libseccomp');
  const r = spawnSync('gcc', ['-O1', '-Wall', '-o', bin, src, '-lseccomp'], { encoding: 'utf8' });
  if (r.status !== 0) {
    cleanup();
    return { skip: `cannot build against libseccomp: ${r.stderr.trim().split('\n')[0]}` };
  }
  return { bin, cleanup };
}

/** libseccomp's output for a line-format profile. */
export interface LibseccompFilter {
  filter: Uint8Array;
  /** abi -> syscall name -> libseccomp's number (negative: unknown or a pseudo-syscall). */
  resolved: Map<string, Map<string, number>>;
  unknown: string[];
  ruleErrors: string[];
}

export function runLibseccompExporter(bin: string, lines: string): LibseccompFilter {
  const r = spawnSync(bin, [], { input: lines, maxBuffer: 1 << 24 });
  const stderr = r.stderr.toString();
  if (r.status !== 0) throw new Error(`export-libseccomp failed (${r.status}): ${stderr}`);
  const resolved = new Map<string, Map<string, number>>();
  const unknown: string[] = [];
  const ruleErrors: string[] = [];
  for (const line of stderr.split('\n')) {
    const w = line.split(' ');
    if (w[0] === 'resolved') {
      if (!resolved.has(w[1])) resolved.set(w[1], new Map());
      resolved.get(w[1])?.set(w[2], Number(w[3]));
    } else if (w[0] === 'unknown') unknown.push(w[2]);
    else if (w[0] === 'rule-error') ruleErrors.push(line);
  }
  return { filter: new Uint8Array(r.stdout), resolved, unknown, ruleErrors };
}

/** The libseccomp version the exporter links against, e.g. `2.5.4`. */
export function libseccompVersion(): string | undefined {
  try {
    const out = execFileSync('pkg-config', ['--modversion', 'libseccomp'], { encoding: 'utf8' });
    return out.trim();
  } catch {
    return undefined;
  }
}
