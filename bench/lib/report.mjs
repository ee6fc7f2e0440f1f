// The one table: a row per figure, a column per runtime, and moat's ratios to runc and crun.

const ms = (x) => (x === undefined || Number.isNaN(x) ? '-' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
const mib = (x) => (x === undefined || Number.isNaN(x) ? '-' : `${(x / 1048576).toFixed(2)} MiB`);
const ratio = (a, b) => (typeof a !== 'number' || typeof b !== 'number' || !b ? '-' : `${(a / b).toFixed(2)}x`);

function pad(rows) {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ')).join('\n');
}

/** Prints the results as one table on stdout. */
export function printTable(res) {
  const avail = res.runtimes.filter((r) => r.available && r.name !== 'moat library').map((r) => r.name);
  const moats = avail.filter((n) => n.startsWith('moat'));
  const cols = [...avail];
  const hasCrun = avail.includes('crun');
  const header = ['figure', ...cols, ...moats.map((m) => `${m}/runc`), ...(hasCrun ? moats.map((m) => `${m}/crun`) : [])];
  const rows = [header];
  const add = (label, get, fmt = ms) => {
    const v = Object.fromEntries(cols.map((c) => [c, get(c)]));
    if (Object.values(v).every((x) => x === undefined)) return; // a phase not run
    rows.push([label, ...cols.map((c) => fmt(v[c])), ...moats.map((m) => ratio(v[m], v.runc)), ...(hasCrun ? moats.map((m) => ratio(v[m], v.crun)) : [])]);
  };
  const r = res.run ?? {}, s = res.split ?? {}, q = res.sequential ?? {}, c = res.concurrent ?? {};
  add('(1) run /bin/true, min', (n) => r[n]?.min);
  add('(1) run /bin/true, median', (n) => r[n]?.median);
  add('(1) run errors', (n) => r[n]?.errors, String);
  for (const verb of ['create', 'start', 'delete']) {
    add(`(2) ${verb}, min`, (n) => s[n]?.[verb]?.min);
    add(`(2) ${verb}, median`, (n) => s[n]?.[verb]?.median);
  }
  add('(2) errors', (n) => s[n]?.errors, String);
  add(`(3) ${res.options.seq} sequential runs`, (n) => q[n]?.ms);
  add('(3) errors', (n) => q[n]?.errors, String);
  add(`(4) ${res.options.concurrent} concurrent create+start`, (n) => c[n]?.startMs);
  add(`(4) ${res.options.concurrent} concurrent delete`, (n) => c[n]?.deleteMs);
  add(`(4) ${res.options.concurrent} concurrent total`, (n) => c[n]?.totalMs);
  add('(4) errors', (n) => c[n]?.errors, String);
  add('(4) memory cgroup charge / container (exact)', (n) => c[n]?.memory.perContainerExactBytes, mib);
  add('(4)   of which kernel (kmem) / container', (n) => c[n]?.memory.perContainerKmem, mib);
  add('(4) memory cgroup usage_in_bytes / container', (n) => c[n]?.memory.perContainerCgroupBytes, mib);
  add('(4) PSS of its processes / container', (n) => c[n]?.memory.perContainerPss, mib);
  add('(4) MemAvailable drop / container', (n) => c[n]?.memory.perContainerMemAvailableDelta, mib);
  add('(4) host Slab+KernelStack+PageTables rise / container', (n) => c[n]?.memory.perContainerHostKernelDelta, mib);
  add('(4) processes in containers', (n) => c[n] && `${c[n].memory.processes} (${Object.entries(c[n].memory.comms).map(([k, v]) => `${k}:${v}`).join(' ')})`, String);
  add('(4) runtime processes left running', (n) => c[n]?.residentRuntimeProcesses, String);
  add('(4) leftovers after delete', (n) => c[n] && (Object.keys(c[n].leftovers.state).length + c[n].leftovers.cgroups.length + c[n].leftovers.processes.length), String);
  process.stdout.write(`\nisolation (every runtime, same config.json): ${res.isolation}\n`);
  for (const rt of res.runtimes) if (!rt.available || rt.note) process.stdout.write(`${rt.name}: ${rt.available ? rt.note : `unavailable: ${rt.reason}`}${rt.refusal ? ` (refusal worked around: "${rt.refusal}")` : ''}\n`);
  process.stdout.write(`\n${pad(rows)}\n`);

  const lib = r['moat library'];
  const rows5 = [['(5) library path: runContainer of /bin/true, warm Node', 'min', 'median', 'vs runc run', 'vs crun run', 'vs bwrap']];
  if (lib) rows5.push(['moat library (runContainer: create, run, wait, delete)', ms(lib.min), ms(lib.median), ratio(lib.median, r.runc?.median), hasCrun ? ratio(lib.median, r.crun?.median) : '-', ratio(lib.median, r.bwrap?.median)]);
  const here = r['moat library, in the bench process'];
  if (here) rows5.push(['  the same in the bench\'s process (it spawns the others)', ms(here.min), ms(here.median), ratio(here.median, r.runc?.median), hasCrun ? ratio(here.median, r.crun?.median) : '-', ratio(here.median, r.bwrap?.median)]);
  if (r.bwrap) rows5.push(['bwrap /bin/true (namespaces only: no cgroup, no seccomp)', ms(r.bwrap.min), ms(r.bwrap.median), '', '', '']);
  process.stdout.write(`\n${pad(rows5)}\n`);

  const rows6 = [['(6) floors', 'min', 'median']];
  for (const [k, v] of Object.entries(res.floor ?? {})) rows6.push([k, ms(v?.min), ms(v?.median)]);
  process.stdout.write(`\n${pad(rows6)}\n`);
  process.stdout.write(`\nhost: node ${res.host.node}, ${res.host.cpus} cpus, load ${res.host.load?.map((x) => x.toFixed(2)).join(' ')} at start\n`);
}
