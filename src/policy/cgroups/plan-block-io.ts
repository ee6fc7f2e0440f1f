// linux.resources.blockIO -> blkio (v1) or io (v2) controller writes.
import type { OciResources } from '../../spec/oci-types.js';
import { jsonPath } from '../../spec/issues.js';
import { PlanContext, isIntIn } from './cgroup-write.js';
import { THROTTLE_V1_FILE, THROTTLE_V2_KEY, blkioWeightToIoWeight, throttleRateToV2 } from './convert-v1-v2.js';

type BlockIO = NonNullable<OciResources['blockIO']>;

function weightOk(ctx: PlanContext, v: unknown, path: string): v is number {
  if (isIntIn(v, 10, 1000)) return true;
  ctx.issue(path, `must be 10..1000, got \`${String(v)}\``);
  return false;
}

function deviceOk(ctx: PlanContext, d: { major: number; minor: number }, path: string): boolean {
  if (isIntIn(d.major, 0, 0xffffffff) && isIntIn(d.minor, 0, 0xffffffff)) return true;
  ctx.issue(path, `needs integer \`major\` and \`minor\`, got \`${String(d.major)}:${String(d.minor)}\``);
  return false;
}

/** Plans the block io writes: weights first (the cfq `blkio.weight` falls back to `blkio.bfq.weight`), then throttles. */
export function planBlockIO(ctx: PlanContext, b: BlockIO, path: string): void {
  const p = (k: string) => jsonPath(path, k);
  const v1 = ctx.api === 'v1';
  if (b.weight !== undefined && b.weight !== 0 && weightOk(ctx, b.weight, p('weight'))) {
    if (v1) ctx.write('blkio', 'blkio.weight', b.weight, p('weight'), { file: 'blkio.bfq.weight', value: String(b.weight) });
    else ctx.write('io', 'io.weight', `default ${blkioWeightToIoWeight(b.weight)}`, p('weight'), { file: 'io.bfq.weight', value: `default ${b.weight}` });
  }
  if (b.leafWeight !== undefined && b.leafWeight !== 0 && weightOk(ctx, b.leafWeight, p('leafWeight'))) {
    if (v1) ctx.write('blkio', 'blkio.leaf_weight', b.leafWeight, p('leafWeight'));
    else ctx.unsupported(p('leafWeight'), 'cgroup v2 has no leaf weight');
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const dp = jsonPath(p('weightDevice'), i);
    if (!deviceOk(ctx, d, dp)) return;
    const dev = `${d.major}:${d.minor}`;
    if (d.weight !== undefined && weightOk(ctx, d.weight, jsonPath(dp, 'weight'))) {
      if (v1) ctx.write('blkio', 'blkio.weight_device', `${dev} ${d.weight}`, jsonPath(dp, 'weight'), { file: 'blkio.bfq.weight_device', value: `${dev} ${d.weight}` });
      else ctx.write('io', 'io.weight', `${dev} ${blkioWeightToIoWeight(d.weight)}`, jsonPath(dp, 'weight'), { file: 'io.bfq.weight', value: `${dev} ${d.weight}` });
    }
    if (d.leafWeight !== undefined && weightOk(ctx, d.leafWeight, jsonPath(dp, 'leafWeight'))) {
      if (v1) ctx.write('blkio', 'blkio.leaf_weight_device', `${dev} ${d.leafWeight}`, jsonPath(dp, 'leafWeight'));
      else ctx.unsupported(jsonPath(dp, 'leafWeight'), 'cgroup v2 has no leaf weight');
    }
  });
  for (const key of Object.keys(THROTTLE_V1_FILE) as (keyof typeof THROTTLE_V1_FILE & keyof BlockIO)[]) {
    const list = b[key] as { major: number; minor: number; rate: number }[] | undefined;
    (list ?? []).forEach((d, i) => {
      const dp = jsonPath(p(key), i);
      if (!deviceOk(ctx, d, dp)) return;
      if (!isIntIn(d.rate, 0)) return ctx.issue(jsonPath(dp, 'rate'), `must be a non-negative integer, got \`${String(d.rate)}\``);
      const dev = `${d.major}:${d.minor}`;
      if (v1) ctx.write('blkio', THROTTLE_V1_FILE[key]!, `${dev} ${d.rate}`, jsonPath(dp, 'rate'));
      else ctx.write('io', 'io.max', `${dev} ${THROTTLE_V2_KEY[key]}=${throttleRateToV2(d.rate)}`, jsonPath(dp, 'rate'));
    });
  }
}
