/**
 * @weir/quality: the only public surface of the quality slice (module, port tokens and interfaces, events, DTO types).
 */
export { QualityModule } from './quality.module';
