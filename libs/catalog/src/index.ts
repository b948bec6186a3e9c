/**
 * @weir/catalog: the only public surface of the catalog slice (module, port tokens and interfaces, events, DTO types).
 */
export { CatalogModule } from './catalog.module';
