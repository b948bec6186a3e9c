/** Nest token of the validated {@link WeirConfig}. */
export const WEIR_CONFIG = Symbol('WEIR_CONFIG');
