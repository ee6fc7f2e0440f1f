// Sandbox networking: the modes and the hooks the lifecycle calls; the work is done in
// ./network/ (CNI plugins for bridge and user networks, pasta and slirp4netns helpers).
export { checkNetworkExists, NETWORK_MODES, applyNetwork, setUpNetwork, setUpNetworkStarted, tearDownNetwork, describeNetworkMode, hasAddress, networkState, type NetworkState } from './network/index.js';
