import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiKeyRole, Principal } from './roles';

export const IS_PUBLIC = 'weir:isPublic';
export const REQUIRED_ROLE = 'weir:requiredRole';

/** Marks a route (or controller) as reachable without an API key. Use sparingly: `/health` only. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * Requires at least this role. Without it a route follows the default rule: viewers may only
 * read (GET/HEAD), editors and admins may also write.
 */
export const RequireRole = (role: ApiKeyRole): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLE, role);

/** Injects the authenticated {@link Principal} into a handler parameter. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => {
  return ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
});
