// linux.resources.memory -> memory controller writes (v1 files or v2 files).
import type { OciResources } from '../../spec/oci-types.js';
import { jsonPath } from '../../spec/issues.js';
import { PlanContext, isIntIn } from './cgroup-write.js';
import { memoryToV2, swapToV2 } from './convert-v1-v2.js';

type Memory = NonNullable<OciResources['memory']>;

function checkBytes(ctx: PlanContext, v: unknown, path: string): v is number {
  if (v === -1 || isIntIn(v, 1)) return true;
  ctx.issue(path, `must be a positive number of bytes or \`-1\` (unlimited), got \`${String(v)}\``);
  return false;
}

/** Plans the memory writes; order: limit, then memory+swap (v1 requires memsw >= limit). */
export function planMemory(ctx: PlanContext, m: Memory, path: string): void {
  const p = (k: string) => jsonPath(path, k);
  const limitOk = m.limit !== undefined && checkBytes(ctx, m.limit, p('limit'));
  const swapOk = m.swap !== undefined && checkBytes(ctx, m.swap, p('swap'));
  const reservationOk = m.reservation !== undefined && checkBytes(ctx, m.reservation, p('reservation'));
  if (limitOk && swapOk && m.swap !== -1 && m.limit !== -1 && m.swap! < m.limit!) {
    ctx.issue(p('swap'), `memory+swap \`${m.swap}\` must be >= the memory limit \`${m.limit}\``);
  }
  if (ctx.api === 'v1') {
    // limit first: on a fresh cgroup both are unlimited, and the kernel refuses a memsw limit below the limit
    if (limitOk) ctx.write('memory', 'memory.limit_in_bytes', m.limit!, p('limit'));
    if (swapOk) ctx.write('memory', 'memory.memsw.limit_in_bytes', m.swap!, p('swap'));
    if (reservationOk) ctx.write('memory', 'memory.soft_limit_in_bytes', m.reservation!, p('reservation'));
  } else {
    if (limitOk) ctx.write('memory', 'memory.max', memoryToV2(m.limit!), p('limit'));
    if (swapOk) {
      const r = swapToV2(m.swap!, limitOk ? m.limit : undefined);
      if ('error' in r) ctx.issue(p('swap'), r.error);
      else ctx.write('memory', 'memory.swap.max', r.value, p('swap'));
    }
    if (reservationOk) ctx.write('memory', 'memory.low', memoryToV2(m.reservation!), p('reservation'));
  }
  planMemoryFlags(ctx, m, path);
}

function planMemoryFlags(ctx: PlanContext, m: Memory, path: string): void {
  const p = (k: string) => jsonPath(path, k);
  const v1 = ctx.api === 'v1';
  if (m.swappiness !== undefined) {
    if (!isIntIn(m.swappiness, 0, 100)) ctx.issue(p('swappiness'), `must be 0..100, got \`${String(m.swappiness)}\``);
    else if (v1) ctx.write('memory', 'memory.swappiness', m.swappiness, p('swappiness'));
    else ctx.unsupported(p('swappiness'), 'cgroup v2 has no `memory.swappiness`');
  }
  if (m.disableOOMKiller === true) {
    if (v1) ctx.write('memory', 'memory.oom_control', 1, p('disableOOMKiller'));
    else ctx.unsupported(p('disableOOMKiller'), 'cgroup v2 cannot disable the oom killer');
  }
  if (m.useHierarchy !== undefined) {
    // the kernel has always used the hierarchy since 5.x; writing `0` fails with EINVAL
    if (m.useHierarchy === false) ctx.unsupported(p('useHierarchy'), 'the kernel no longer supports `memory.use_hierarchy` = `0`');
    else if (v1) ctx.write('memory', 'memory.use_hierarchy', 1, p('useHierarchy'));
  }
  if (m.kernel !== undefined) {
    ctx.note(p('kernel'), 'ignored: `memory.kmem.limit_in_bytes` is deprecated by OCI and unsupported by the kernel');
  }
  if (m.kernelTCP !== undefined) {
    if (!(m.kernelTCP === -1 || isIntIn(m.kernelTCP, 1))) ctx.issue(p('kernelTCP'), `must be positive or \`-1\`, got \`${String(m.kernelTCP)}\``);
    else if (v1) ctx.write('memory', 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP, p('kernelTCP'));
    else ctx.unsupported(p('kernelTCP'), 'cgroup v2 has no separate tcp memory limit');
  }
}
