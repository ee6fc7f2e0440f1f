// linux.resources.cpu -> cpu and cpuset controller writes.
import type { OciResources } from '../../spec/oci-types.js';
import { jsonPath } from '../../spec/issues.js';
import { PlanContext, isIntIn } from './cgroup-write.js';
import { cpuMaxLine, cpuSharesToWeight } from './convert-v1-v2.js';

type Cpu = NonNullable<OciResources['cpu']>;

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** Plans the cpu writes; order: period before quota before burst (the kernel checks each against the others). */
export function planCpu(ctx: PlanContext, c: Cpu, path: string): void {
  const p = (k: string) => jsonPath(path, k);
  const v1 = ctx.api === 'v1';
  if (c.shares !== undefined && c.shares !== 0) {
    if (!isIntIn(c.shares, 2, 262144)) ctx.issue(p('shares'), `must be 2..262144, got \`${String(c.shares)}\``);
    else if (v1) ctx.write('cpu', 'cpu.shares', c.shares, p('shares'));
    else ctx.write('cpu', 'cpu.weight', cpuSharesToWeight(c.shares), p('shares'));
  }
  const periodOk = c.period !== undefined && c.period !== 0 && checkRange(ctx, c.period, 1000, 1_000_000, p('period'));
  const quotaOk = c.quota !== undefined && c.quota !== 0 && (c.quota === -1 || checkRange(ctx, c.quota, 1000, Number.MAX_SAFE_INTEGER, p('quota')));
  const burstOk = c.burst !== undefined && checkRange(ctx, c.burst, 0, Number.MAX_SAFE_INTEGER, p('burst'));
  if (v1) {
    if (periodOk) ctx.write('cpu', 'cpu.cfs_period_us', c.period!, p('period'));
    if (quotaOk) ctx.write('cpu', 'cpu.cfs_quota_us', c.quota!, p('quota'));
    if (burstOk) ctx.write('cpu', 'cpu.cfs_burst_us', c.burst!, p('burst'));
  } else {
    if (periodOk || quotaOk) ctx.write('cpu', 'cpu.max', cpuMaxLine(quotaOk ? c.quota : undefined, periodOk ? c.period : undefined), p(quotaOk ? 'quota' : 'period'));
    if (burstOk) ctx.write('cpu', 'cpu.max.burst', c.burst!, p('burst'));
  }
  planRealtime(ctx, c, path);
  for (const k of ['cpus', 'mems'] as const) {
    const v = c[k];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || !CPU_LIST.test(v)) ctx.issue(p(k), `must be a list like \`0-3,5\`, got \`${String(v)}\``);
    else ctx.write('cpuset', `cpuset.${k}`, v, p(k));
  }
  if (c.idle !== undefined) {
    if (c.idle !== 0 && c.idle !== 1) ctx.issue(p('idle'), `must be \`0\` or \`1\`, got \`${String(c.idle)}\``);
    else ctx.write('cpu', 'cpu.idle', c.idle, p('idle'));
  }
}

function planRealtime(ctx: PlanContext, c: Cpu, path: string): void {
  const p = (k: string) => jsonPath(path, k);
  const wanted = (c.realtimePeriod ?? 0) !== 0 || (c.realtimeRuntime ?? 0) !== 0;
  if (!wanted) return;
  if (ctx.api === 'v2') {
    ctx.unsupported(p(c.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod'), 'cgroup v2 has no realtime cpu limits');
    return;
  }
  // period first: the runtime must fit in the period
  if (c.realtimePeriod && checkRange(ctx, c.realtimePeriod, 1, Number.MAX_SAFE_INTEGER, p('realtimePeriod'))) {
    ctx.write('cpu', 'cpu.rt_period_us', c.realtimePeriod, p('realtimePeriod'));
  }
  if (c.realtimeRuntime && (c.realtimeRuntime === -1 || checkRange(ctx, c.realtimeRuntime, 0, Number.MAX_SAFE_INTEGER, p('realtimeRuntime')))) {
    ctx.write('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, p('realtimeRuntime'));
  }
}

function checkRange(ctx: PlanContext, v: unknown, min: number, max: number, path: string): boolean {
  if (isIntIn(v, min, max)) return true;
  ctx.issue(path, `must be ${min}..${max}, got \`${String(v)}\``);
  return false;
}
