import { CanActivate, ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeysService } from './api-keys.service';
import { authConfig } from './auth.config';
import { KeyRateLimiter } from './rate-limiter';
import { WEIR_CONFIG } from '../config/config.tokens';
import type { WeirConfig } from '../config/weir-config';
import { IS_PUBLIC, REQUIRED_ROLE } from './auth.decorators';
import { accessDenied, ApiKeyRole, Principal } from './roles';

function problem(status: number, code: string, detail: string): HttpException {
  return new HttpException({ code, message: detail }, status);
}

/** Reads the key from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function extractApiKey(req: Pick<Request, 'headers'>): string | undefined {
  const auth = req.headers['authorization'];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  return undefined;
}

/**
 * Global guard: every route needs a valid API key unless marked {@link Public}. An expired key
 * answers 401 `PLATFORM.KEY_EXPIRED`; each key may make `WEIR_RATE_LIMIT_PER_MINUTE` requests a
 * minute in this process (429 `PLATFORM.RATE_LIMITED` with `Retry-After`). Viewers may only
 * read; routes marked with {@link RequireRole} need at least that role.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly limiter: KeyRateLimiter;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    @Inject(WEIR_CONFIG) config: Pick<WeirConfig, 'env'>,
  ) {
    this.limiter = new KeyRateLimiter(authConfig(config.env).rateLimitPerMinute);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const res = ctx.switchToHttp().getResponse<{ setHeader(n: string, v: string): void }>();
    const secret = extractApiKey(req);
    if (!secret) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="weir"');
      throw problem(
        HttpStatus.UNAUTHORIZED,
        'PLATFORM.UNAUTHENTICATED',
        'An API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"',
      );
    }
    const verified = await this.keys.verify(secret);
    if (!('principal' in verified)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="weir", error="invalid_token"');
      if (verified.failure === 'expired')
        throw problem(
          HttpStatus.UNAUTHORIZED,
          'PLATFORM.KEY_EXPIRED',
          `The API key ${verified.keyId} expired at ${verified.expiredAt.toISOString()}; an admin can rotate it with a new expiry or create another`,
        );
      throw problem(HttpStatus.UNAUTHORIZED, 'PLATFORM.INVALID_API_KEY', 'The API key is unknown or revoked');
    }
    const principal = verified.principal;
    const retryAfter = this.limiter.take(principal.keyId);
    if (retryAfter > 0) {
      res.setHeader('Retry-After', String(retryAfter));
      throw problem(
        HttpStatus.TOO_MANY_REQUESTS,
        'PLATFORM.RATE_LIMITED',
        `The key "${principal.name}" made more than ${this.limiter.perMinute} requests in a minute; retry in ${retryAfter} s`,
      );
    }
    req.principal = principal;
    const denied = accessDenied(
      principal,
      req.method,
      this.reflector.getAllAndOverride<ApiKeyRole | undefined>(REQUIRED_ROLE, targets),
    );
    if (denied) throw problem(HttpStatus.FORBIDDEN, 'PLATFORM.FORBIDDEN', denied);
    return true;
  }
}
