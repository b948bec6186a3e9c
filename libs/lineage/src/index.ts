/**
 * @weir/lineage: the only public surface of the lineage slice (module, port tokens and interfaces, events, DTO types).
 */
export { LineageModule } from './lineage.module';
