// Integration-test helpers over the moat-oci CLI: run a probe command in a fresh container,
// drive the lifecycle, and check that nothing is left behind.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { makeBundle, parseProbe, runCli, uniqueId, withTempState, type Bundle, type CliResult } from './bundle.js';
import { probeCgroupHost } from '../../src/runtime/cgroups/index.js';

/** A state root and the bundles made for one test file, removed together. */
export class Scratch {
  readonly state = withTempState();
  private bundles: Bundle[] = [];

  /** `env` goes to every CLI run (e.g. `{ MOAT_OCI_FRONT: '0' }`: the Node path only). */
  constructor(readonly env: Record<string, string> = {}) {}

  bundle(config?: (c: any) => void): Bundle {
    const b = makeBundle(config ? { config } : {});
    this.bundles.push(b);
    return b;
  }

  /** Runs `moat-oci --root <state> ...args`. */
  cli(args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
    return runCli(['--root', this.state.root, ...args], { ...opts, env: { ...this.env, ...opts.env } });
  }

  /** Runs one container to completion with `args` as its process; returns the CLI result. */
  async run(config: (c: any) => void, args: string[]): Promise<CliResult & { id: string }> {
    const b = this.bundle((c) => {
      c.process.args = args;
      config(c);
    });
    const id = uniqueId('t');
    const r = await this.cli(['run', '-b', b.dir, id]);
    return { ...r, id };
  }

  /** Runs the probe in a container and parses what it printed. */
  async probe<T = any>(args: string[], config: (c: any) => void = () => {}): Promise<T> {
    const r = await this.run(config, ['/probe', ...args]);
    assert.equal(r.code, 0, `probe ${args.join(' ')} failed: ${r.stderr}`);
    return parseProbe<T>(r.stdout);
  }

  /** Deletes every container left in the state root, then removes bundles and state. */
  async cleanup(): Promise<void> {
    for (const id of existsSync(this.state.root) ? readdirSync(this.state.root) : []) {
      await runCli(['--root', this.state.root, 'delete', '--force', id]);
    }
    for (const b of this.bundles) b.cleanup();
    this.state.cleanup();
  }
}

/** Asserts that a container left no state directory and no cgroup. */
export function assertNoLeftovers(root: string, id: string): void {
  assert.equal(existsSync(join(root, id)), false, `state of ${id} left behind`);
  const host = probeCgroupHost();
  for (const [ctl, mount] of Object.entries(host.v1)) {
    const dir = join(mount, host.self[ctl] ?? '/', `moat-${id}`);
    assert.equal(existsSync(dir), false, `cgroup ${dir} left behind`);
  }
  if (host.unified) assert.equal(existsSync(join(host.unified, host.self[''] ?? '/', `moat-${id}`)), false, 'cgroup2 dir left behind');
}

/** The CAP_* mask of names, as a 16-digit hex string like /proc/self/status shows. */
export function capHex(names: string[], numbers: Record<string, number>): string {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(numbers[n]!);
  return m.toString(16).padStart(16, '0');
}

export { uniqueId, parseProbe };
