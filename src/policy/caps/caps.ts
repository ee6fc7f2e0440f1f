// Capabilities for policy code: the names live with the spec (they are spec data).
export { CAPABILITIES, capabilityMask, capabilityNumber, DEFAULT_CAPABILITIES, type CapabilityName } from '../../spec/capabilities.js';
