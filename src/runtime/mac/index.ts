// The runtime side of MAC: host probe, MCS pairs, loading profiles and rules, the host report.
export { findApparmorParser, macHost, probeMacHost } from './host.js';
export { allocateMcsPair, freeMcsPair, freeMcsPairSync, mcsAllocations, mcsPoolFile } from './mcs-pool.js';
export { loadApparmorProfile, loadSmackRules, removeApparmorProfile } from './load.js';
export { macHostReport, type MacHostReport, type MacLayerReport } from './report.js';
