// Integration-test helpers for the `moat` CLI: a temporary data directory per test file,
// running `node bin/moat.js --data-dir DIR ...`, and checks that nothing is left behind.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { removeTree, repoRoot, runCli, type CliResult } from './bundle.js';
import { probeCgroupHost } from '../../src/runtime/cgroups/index.js';
import { sandboxCgroupsPath } from '../../src/manager/spec.js';

/** The moat CLI entry point. */
export const moatPath: string = join(repoRoot, 'bin', 'moat.js');

/** Options of one moat run. */
export interface MoatOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** a command that runs node (like nsenter --net=PATH) */
  wrapper?: string[];
}

/** Runs `node bin/moat.js ...args` (through runCli: output through files). */
export function runMoat(args: string[], opts: MoatOptions = {}): Promise<CliResult> {
  return runCli(args, { ...opts, timeoutMs: opts.timeoutMs ?? 60_000, script: moatPath });
}

/** A data directory for one test file; `cleanup` force-deletes every sandbox and removes it. */
export class MoatScratch {
  // searchable by others: a sandbox's root is an unprivileged host uid in its user namespace
  readonly data = chmodTo(mkdtempSync(join(tmpdir(), 'moat-data-')), 0o711);

  /** `wrapper`: every moat command runs through it (networking tests: inside a netns) */
  constructor(readonly wrapper?: string[]) {}

  moat(args: string[], opts: MoatOptions = {}): Promise<CliResult> {
    return runMoat(['--data-dir', this.data, ...args], { ...(this.wrapper ? { wrapper: this.wrapper } : {}), ...opts });
  }

  /** Runs a command that must succeed; returns its stdout. */
  async ok(args: string[], opts: MoatOptions = {}): Promise<string> {
    const r = await this.moat(args, opts);
    assert.equal(r.code, 0, `moat ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** Names of the sandbox dirs on disk. */
  sandboxDirs(): string[] {
    const d = join(this.data, 'sandboxes');
    return existsSync(d) ? readdirSync(d) : [];
  }

  /** Entries of a data-dir subdirectory (staging, trash, runtime, locks). */
  entries(sub: string): string[] {
    const d = join(this.data, sub);
    return existsSync(d) ? readdirSync(d).filter((n) => !n.startsWith('.')) : [];
  }

  async cleanup(): Promise<void> {
    for (const name of this.sandboxDirs()) await this.moat(['delete', '--force', name]);
    removeTree(this.data);
  }
}

/** The cgroup dirs a sandbox would have (beneath this process's cgroup, as the CLI's). */
export function sandboxCgroupDirs(name: string, dataDir?: string): string[] {
  const host = probeCgroupHost();
  const leaf = sandboxCgroupsPath(name, dataDir);
  const dirs: string[] = [];
  if (host.mode !== 'unified') for (const [ctl, mount] of Object.entries(host.v1)) dirs.push(join(mount, host.self[ctl] ?? '/', leaf));
  if (host.unified && host.mode !== 'v1') dirs.push(join(host.unified, host.self[''] ?? '/', leaf));
  return dirs;
}

/** Mount points under a directory, as this (the host's) mount namespace sees them. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((mp) => mp === dir || mp.startsWith(dir + '/'));
}

/** Asserts that a sandbox left nothing: no dir, no runtime state, no cgroup, no mount, no lock. */
export function assertSandboxGone(s: MoatScratch, name: string): void {
  assert.ok(!s.sandboxDirs().includes(name), `sandbox dir of ${name} left behind`);
  assert.ok(!s.entries('runtime').includes(name), `runtime state of ${name} left behind`);
  assert.deepEqual(s.entries('staging'), [], 'staging not empty');
  assert.deepEqual(s.entries('trash'), [], 'trash not empty');
  assert.ok(!s.entries('locks').some((l) => l.startsWith(`${name}.lock`)), `lock of ${name} left behind`);
  for (const d of sandboxCgroupDirs(name, s.data)) assert.equal(existsSync(d), false, `cgroup ${d} left behind`);
  // (another sandbox's network namespace pin is that sandbox's, not a leftover of this one)
  const pins = join(s.data, 'netns') + '/';
  assert.deepEqual(mountsUnder(s.data).filter((m) => !m.startsWith(pins) || m === pins + name), [], 'mounts left under the data dir');
}

/** Polls `fn` until it is true (or fails the test). */
export async function waitFor(fn: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: not met in ${ms}ms`);
}

function chmodTo(dir: string, mode: number): string {
  chmodSync(dir, mode);
  return dir;
}
