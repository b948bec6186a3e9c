import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { DomainError } from './domain-error';
import { StatementTimeoutError } from './platform.errors';
import { isStatementTimeout } from '../warehouse/statement-timeout';
import {
  codeForStatus,
  PROBLEM_CONTENT_TYPE,
  ProblemDetails,
  problemType,
  titleForStatus,
  statusOfKind,
} from './problem';

/**
 * The one exception filter: every error leaves the API as `application/problem+json`.
 * Domain errors keep their code and message; Nest HTTP errors get a code from their status;
 * anything else is a 500 whose body names only an error id (the details go to the log).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const problem = this.toProblem(exception, req);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  toProblem(exception: unknown, req?: Request & { id?: string }): ProblemDetails {
    const base = { instance: req?.originalUrl?.split('?')[0], requestId: req?.id ? String(req.id) : undefined };
    if (exception instanceof DomainError) {
      const status = statusOfKind(exception.kind);
      return {
        type: problemType(exception.code),
        title: titleForStatus(status),
        status,
        detail: exception.message,
        code: exception.code,
        ...base,
        ...(exception.extra ?? {}),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const explicit = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      const messages = explicit['message'];
      let code = typeof explicit['code'] === 'string' ? (explicit['code'] as string) : codeForStatus(status);
      let detail = typeof body === 'string' ? body : exception.message;
      let errors: unknown[] | undefined;
      if (Array.isArray(messages)) {
        // class-validator failures from the global ValidationPipe
        code = typeof explicit['code'] === 'string' ? code : 'PLATFORM.VALIDATION_FAILED';
        errors = messages;
        detail = `Request validation failed: ${messages.join('; ')}`;
      } else if (typeof messages === 'string') {
        detail = messages;
      }
      if (status === 503 && explicit['status'] === 'error' && typeof explicit['details'] === 'object') {
        // @nestjs/terminus: a dependency is down; say which, without driver internals
        const checks = explicit['details'] as Record<string, { status?: string }>;
        const down = Object.entries(checks)
          .filter(([, v]) => v?.status !== 'up')
          .map(([k]) => k);
        return {
          type: problemType('PLATFORM.UNHEALTHY'),
          title: titleForStatus(503),
          status: 503,
          detail: `Unhealthy: ${down.join(', ') || 'a dependency'} is down`,
          code: 'PLATFORM.UNHEALTHY',
          checks: Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, { status: v?.status ?? 'down' }])),
          ...base,
        };
      }
      if (status >= 500 && status !== 503) {
        return this.internal(exception, base);
      }
      return {
        type: problemType(code),
        title: titleForStatus(status),
        status,
        detail,
        code,
        ...base,
        ...(errors ? { errors } : {}),
      };
    }
    const maybeHttp = exception as { status?: unknown; type?: unknown; expose?: unknown; message?: unknown };
    if (
      typeof maybeHttp?.status === 'number' &&
      maybeHttp.status >= 400 &&
      maybeHttp.status < 500 &&
      maybeHttp.expose === true
    ) {
      // body-parser / raw-body errors (malformed JSON, payload too large) carry a safe status
      const status = maybeHttp.status;
      const code = maybeHttp.type === 'entity.parse.failed' ? 'PLATFORM.MALFORMED_BODY' : codeForStatus(status);
      const detail =
        maybeHttp.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON'
          : String(maybeHttp.message ?? titleForStatus(status));
      return { type: problemType(code), title: titleForStatus(status), status, detail, code, ...base };
    }
    if (isStatementTimeout(exception)) {
      // a cancelled statement no route turned into its own problem: still a 503 with its code, never a 500
      return this.toProblem(
        new StatementTimeoutError(
          'A database statement ran longer than its statement timeout (or was cancelled by an operator) and was cancelled',
        ),
        req,
      );
    }
    return this.internal(exception, base);
  }

  private internal(exception: unknown, base: { instance?: string; requestId?: string }): ProblemDetails {
    const errorId = randomUUID();
    const err = exception instanceof Error ? exception : new Error(String(exception));
    const logged = withoutRowValues(err);
    this.logger.error(
      { errorId, err: logged, requestId: base.requestId },
      `Unhandled error ${errorId}: ${logged.message}`,
    );
    return {
      type: problemType('PLATFORM.INTERNAL'),
      title: 'Internal Server Error',
      status: 500,
      detail: `An unexpected error occurred. Quote error id ${errorId} when reporting it.`,
      code: 'PLATFORM.INTERNAL',
      errorId,
      ...base,
    };
  }
}

/**
 * A PostgreSQL error as it is logged: the row values it quotes masked — in `detail` and `where`
 * (`Key (email)=(…) already exists`, `Failing row contains (…)`, `COPY t, line 2, column c: "…"`)
 * and, for a data exception (SQLSTATE class 22: `invalid input syntax for type integer: "…"`), in
 * its message —, since a value may be personal data (a PII column) and no log line may hold one.
 * Other errors as they are.
 */
export function withoutRowValues<E extends Error>(err: E): E {
  const e = err as E & { detail?: unknown; where?: unknown; code?: unknown };
  const dataError = typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code);
  if (typeof e.detail !== 'string' && typeof e.where !== 'string' && !dataError) return err;
  const mask = (s: string) =>
    s
      .replace(
        /(Key \([^)]*\)=\().*?(\) (?:already exists|is not present|is still referenced|conflicts with))/g,
        '$1***$2',
      )
      .replace(/(Failing row contains \().*(\))/g, '$1***$2')
      .replace(/"(?:[^"\\]|\\.)*"/g, '"***"');
  const message = dataError ? mask(err.message) : err.message;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as E, err, {
    message,
    stack: dataError && err.stack ? err.stack.split(err.message).join(message) : err.stack,
  }) as E & { detail?: unknown; where?: unknown };
  if (typeof e.detail === 'string') copy.detail = mask(e.detail);
  if (typeof e.where === 'string') copy.where = mask(e.where);
  return copy;
}
