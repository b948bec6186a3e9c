/** @weir/tools: workspace governance (registry check) and Nx generators. */
export {
  checkRegistry,
  checkLibs,
  checkEntities,
  checkImports,
  checkMigrations,
  checkPorts,
  entityFiles,
} from './registry/check-registry';
export type { Finding, CheckName, CheckOptions } from './registry/check-registry';
export {
  readDomainRegistry,
  readPortRegistry,
  RegistryFormatError,
  DOMAIN_REGISTRY_PATH,
  PORT_REGISTRY_PATH,
} from './registry/registry';
export type { SliceEntry, PortEntry } from './registry/registry';
export { readProjectGraph } from './registry/project-graph';
export type { SimpleProjectGraph } from './registry/project-graph';
