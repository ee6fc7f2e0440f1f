// `moat logs`: the sandbox's stdout and stderr, which go to console.log from every start.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { sandboxStatus } from './status.js';
import type { SandboxStore } from './store.js';

/** Copies the log to `write`; with `follow`, keeps copying new output until the sandbox
 * stops (or `signal` aborts). */
export async function readSandboxLog(store: SandboxStore, name: string, write: (b: Buffer) => void, follow = false, signal?: AbortSignal): Promise<void> {
  store.read(name);
  const path = store.layout.consoleLog(name);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return; // removed meanwhile: nothing to show
  }
  try {
    const buf = Buffer.alloc(65536);
    let pos = 0;
    const drain = () => {
      for (let n; (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) write(buf.subarray(0, n));
    };
    drain();
    while (follow && !signal?.aborted) {
      const running = sandboxStatus(store, name).status === 'running';
      await new Promise((r) => setTimeout(r, 200));
      drain();
      if (!running) break;
      try {
        if (statSync(path).size < pos) pos = 0; // truncated
      } catch {
        break; // deleted
      }
    }
  } finally {
    closeSync(fd);
  }
}
