// Spawning and timing commands. Every child gets the same environment, without
// NODE_EXTRA_CA_CERTS (it adds ~40 ms to each Node start-up and is not part of any runtime).
import { spawn } from 'node:child_process';

/** The environment every benchmarked command runs with. */
export const benchEnv = (() => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
})();

/**
 * Runs argv to completion; resolves { ms, code, stdout, stderr }. stdout/stderr are collected
 * only with capture (a detached container inherits what it is given: /dev/null otherwise).
 */
export function timed(argv, { capture = false, cwd, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env: benchEnv, cwd, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'ignore' });
    let stdout = '', stderr = '';
    if (capture) {
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code: -1, stdout, stderr: String(e.message) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
    });
  });
}

/** Like timed, with stdout/stderr, for set-up steps; throws on a non-zero exit. */
export async function must(argv, opts = {}) {
  const r = await timed(argv, { ...opts, capture: true });
  if (r.code !== 0) throw new Error(`\`${argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

/** Milliseconds since t0 (a bigint from process.hrtime.bigint()). */
export function since(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Every container ID of this run contains TAG, so leftovers (cgroups, processes) can be found. */
export const TAG = `mb${process.pid}-`;
let seq = 0;
/** A fresh container ID: TAGwhat-N. */
export function newId(what) {
  return `${TAG}${what}-${++seq}`;
}
