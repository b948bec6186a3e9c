import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { ValidateIf } from 'class-validator';

/** The global ValidationPipe settings every route shares (unknown fields are errors, not silently dropped). */
export const VALIDATION_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, transform: true } as const;

const pipe = new ValidationPipe(VALIDATION_OPTIONS);

/**
 * Validates a value exactly as the global pipe would (same options, same 400 PLATFORM.VALIDATION_FAILED),
 * for a route that reads its own body, e.g. one that takes JSON or an upload on the same path.
 */
export function validateAs<T extends object>(
  metatype: new () => T,
  value: unknown,
  type: ArgumentMetadata['type'] = 'body',
): Promise<T> {
  return pipe.transform(value ?? {}, { type, metatype }) as Promise<T>;
}

/**
 * An optional property that, when present, must be valid: `undefined` (absent) skips its
 * validators, `null` does not (class-validator's IsOptional lets null through, and `tags: null`
 * or `location.path: null` then reached the services). Use IsOptional only where null means
 * something (a schedule removed, a description cleared).
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_o, v) => v !== undefined);
}
