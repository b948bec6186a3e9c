import { CanActivate, ExecutionContext, HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeysService } from './api-keys.service';
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
 * Global guard: every route needs a valid API key unless marked {@link Public}. Viewers may only
 * read; routes marked with {@link RequireRole} need at least that role.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
  ) {}

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
    const principal = await this.keys.authenticate(secret);
    if (!principal) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="weir", error="invalid_token"');
      throw problem(HttpStatus.UNAUTHORIZED, 'PLATFORM.INVALID_API_KEY', 'The API key is unknown or revoked');
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
