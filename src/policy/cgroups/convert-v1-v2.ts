// Pure conversions from OCI (cgroup v1 shaped) resource values to cgroup v2 file values.
// Facts: kernel Documentation/admin-guide/cgroup-v2.rst and the OCI runtime-spec cgroup notes.

/** `cpu.shares` (2..262144) to `cpu.weight` (1..10000), the OCI/crun formula `1 + ((shares - 2) * 9999) / 262142`. */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** `blkio.weight` (10..1000) to `io.weight` (1..10000), linear as crun does: `1 + ((weight - 10) * 9999) / 990`. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** `memory.limit_in_bytes` style value (-1 unlimited) to a v2 `memory.max`/`memory.low` value. */
export function memoryToV2(bytes: number): string {
  return bytes === -1 ? 'max' : String(bytes);
}

/**
 * OCI `memory.swap` is the memory+swap limit (v1 `memory.memsw.limit_in_bytes`); v2's
 * `memory.swap.max` is swap alone, so it is `swap - limit`. Returns the value, or an error
 * message. `limit` undefined means the limit is not set.
 */
export function swapToV2(swap: number, limit: number | undefined): { value: string } | { error: string } {
  if (swap === -1) return { value: 'max' };
  if (limit === undefined) return { error: 'a swap limit needs `memory.limit` set too on cgroup v2' };
  if (limit === -1) return { error: 'a finite swap limit cannot go with an unlimited `memory.limit`' };
  if (swap < limit) return { error: `memory+swap \`${swap}\` must be >= the memory limit \`${limit}\`` };
  return { value: String(swap - limit) };
}

/** `cpu.cfs_quota_us`/`cpu.cfs_period_us` to a v2 `cpu.max` line (`$MAX $PERIOD`). */
export function cpuMaxLine(quota: number | undefined, period: number | undefined): string {
  const max = quota === undefined || quota < 0 ? 'max' : String(quota);
  return period === undefined ? max : `${max} ${period}`;
}

/** A v1 `blkio.throttle.*_device` field name to its v2 `io.max` key. */
export const THROTTLE_V2_KEY: Record<string, string> = {
  throttleReadBpsDevice: 'rbps',
  throttleWriteBpsDevice: 'wbps',
  throttleReadIOPSDevice: 'riops',
  throttleWriteIOPSDevice: 'wiops',
};

/** A v1 `blkio.throttle.*_device` field name to its v1 file. */
export const THROTTLE_V1_FILE: Record<string, string> = {
  throttleReadBpsDevice: 'blkio.throttle.read_bps_device',
  throttleWriteBpsDevice: 'blkio.throttle.write_bps_device',
  throttleReadIOPSDevice: 'blkio.throttle.read_iops_device',
  throttleWriteIOPSDevice: 'blkio.throttle.write_iops_device',
};

/** A throttle rate to its v2 `io.max` value: 0 removes the limit (`max`) as it does on v1. */
export function throttleRateToV2(rate: number): string {
  return rate === 0 ? 'max' : String(rate);
}

/** A hugepage size such as `2MB` to v1 (`hugetlb.2MB.limit_in_bytes`) or v2 (`hugetlb.2MB.max`) file name. */
export function hugetlbFile(pageSize: string, api: 'v1' | 'v2'): string {
  return api === 'v1' ? `hugetlb.${pageSize}.limit_in_bytes` : `hugetlb.${pageSize}.max`;
}
