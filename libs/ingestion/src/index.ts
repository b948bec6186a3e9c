/**
 * @weir/ingestion: the only public surface of the ingestion slice (module, port tokens and interfaces, events, DTO types).
 */
export { IngestionModule } from './ingestion.module';
