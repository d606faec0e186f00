/** The environments model: `environments/<name>.yaml`, the one source of truth. See DESIGN.md. */
export {
  type Cidr,
  cidrContains,
  cidrRange,
  formatCidr,
  formatIpv4,
  formatRange,
  type Ipv4Range,
  parseCidr,
  parseIpv4,
  parseRange,
  rangeContains,
  rangeOverlap,
  rangeSize,
  rangeWithin,
  usableRange,
} from './ipv4.js';
export {
  ENVIRONMENTS_DIR,
  type FileReport,
  type LoadOptions,
  listEnvironments,
  loadEnvironment,
  resolveEnvironment,
  type TextReport,
  validateEnvironmentFile,
  validateEnvironmentText,
} from './load.js';
export { checkDrSchema, checkSchema, environmentSchema } from './schema.js';
export { checkSemantics, type SemanticOptions } from './semantic-checks.js';
export * from './types.js';
