// linux.resources.pids, hugepageLimits, network and rdma -> their controllers' writes.
import type { OciResources } from '../../spec/oci-types.js';
import { jsonPath } from '../../spec/issues.js';
import { PlanContext, isIntIn } from './cgroup-write.js';
import { hugetlbFile } from './convert-v1-v2.js';

/** Plans `pids.max`: `-1` and `0` mean unlimited (`max`), as runc reads them. */
export function planPids(ctx: PlanContext, pids: NonNullable<OciResources['pids']>, path: string): void {
  const p = jsonPath(path, 'limit');
  const v = pids.limit;
  if (v === -1 || v === 0) ctx.write('pids', 'pids.max', 'max', p);
  else if (isIntIn(v, 1)) ctx.write('pids', 'pids.max', v, p);
  else ctx.issue(p, `must be a positive integer or \`-1\`, got \`${String(v)}\``);
}

const PAGE_SIZE = /^\d+(KB|MB|GB|TB)$/;

/** Plans one hugetlb limit per page size (`hugetlb.2MB.limit_in_bytes` / `hugetlb.2MB.max`). */
export function planHugepages(ctx: PlanContext, list: NonNullable<OciResources['hugepageLimits']>, path: string): void {
  list.forEach((h, i) => {
    const hp = jsonPath(path, i);
    if (typeof h.pageSize !== 'string' || !PAGE_SIZE.test(h.pageSize)) {
      return ctx.issue(jsonPath(hp, 'pageSize'), `must look like \`2MB\` or \`1GB\`, got \`${String(h.pageSize)}\``);
    }
    if (!(h.limit === -1 || isIntIn(h.limit, 0))) return ctx.issue(jsonPath(hp, 'limit'), `must be a byte count, got \`${String(h.limit)}\``);
    const value = h.limit === -1 ? (ctx.api === 'v1' ? '-1' : 'max') : String(h.limit);
    ctx.write('hugetlb', hugetlbFile(h.pageSize, ctx.api), value, jsonPath(hp, 'limit'));
  });
}

const IFNAME = /^[^\s/]{1,15}$/;

/** Plans v1 `net_cls.classid` and `net_prio.ifpriomap`; cgroup v2 has neither. */
export function planNetwork(ctx: PlanContext, n: NonNullable<OciResources['network']>, path: string): void {
  if (n.classID !== undefined) {
    const p = jsonPath(path, 'classID');
    if (!isIntIn(n.classID, 0, 0xffffffff)) ctx.issue(p, `must be a u32, got \`${String(n.classID)}\``);
    else if (ctx.api === 'v1') ctx.write('net_cls', 'net_cls.classid', n.classID, p);
    else ctx.unsupported(p, 'cgroup v2 has no `net_cls` controller');
  }
  (n.priorities ?? []).forEach((pr, i) => {
    const p = jsonPath(jsonPath(path, 'priorities'), i);
    if (typeof pr.name !== 'string' || !IFNAME.test(pr.name)) return ctx.issue(jsonPath(p, 'name'), `is not an interface name: \`${String(pr.name)}\``);
    if (!isIntIn(pr.priority, 0, 0xffffffff)) return ctx.issue(jsonPath(p, 'priority'), `must be a u32, got \`${String(pr.priority)}\``);
    if (ctx.api === 'v1') ctx.write('net_prio', 'net_prio.ifpriomap', `${pr.name} ${pr.priority}`, p);
    else ctx.unsupported(p, 'cgroup v2 has no `net_prio` controller');
  });
}

const RDMA_DEVICE = /^[^\s=]+$/;

/** Plans one `rdma.max` line per device (same file on v1 and v2). */
export function planRdma(ctx: PlanContext, rdma: NonNullable<OciResources['rdma']>, path: string): void {
  for (const [dev, lim] of Object.entries(rdma)) {
    const p = jsonPath(path, dev);
    if (!RDMA_DEVICE.test(dev)) { ctx.issue(p, `is not an rdma device name: \`${dev}\``); continue; }
    const parts: string[] = [];
    for (const [k, file] of [['hcaHandles', 'hca_handle'], ['hcaObjects', 'hca_object']] as const) {
      const v = lim[k];
      if (v === undefined) continue;
      if (!isIntIn(v, 0, 0x7fffffff)) ctx.issue(jsonPath(p, k), `must be a non-negative integer, got \`${String(v)}\``);
      else parts.push(`${file}=${v}`);
    }
    if (parts.length > 0) ctx.write('rdma', 'rdma.max', `${dev} ${parts.join(' ')}`, p);
  }
}
