import {
  BadRequestException,
  HttpException,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { DomainError } from './domain-error';
import { ApiKeyNotFoundError } from './platform.errors';
import { ProblemDetailsFilter, withoutRowValues } from './problem.filter';

describe('ProblemDetailsFilter.toProblem', () => {
  beforeAll(() => Logger.overrideLogger(false));
  const filter = new ProblemDetailsFilter();
  const req = { originalUrl: '/api/x/1?y=2', id: 'req-1' } as never;

  it('keeps a domain error code, status and message', () => {
    const p = filter.toProblem(new ApiKeyNotFoundError('No API key with id "1"', { id: '1' }), req);
    expect(p).toEqual({
      type: 'urn:weir:problem:PLATFORM.API_KEY_NOT_FOUND',
      title: 'Not Found',
      status: 404,
      detail: 'No API key with id "1"',
      code: 'PLATFORM.API_KEY_NOT_FOUND',
      instance: '/api/x/1',
      requestId: 'req-1',
      id: '1',
    });
  });

  it('turns validation pipe errors into PLATFORM.VALIDATION_FAILED with the list', () => {
    const p = filter.toProblem(new BadRequestException(['name must be a string', 'property x should not exist']), req);
    expect(p.code).toBe('PLATFORM.VALIDATION_FAILED');
    expect(p.status).toBe(400);
    expect(p.errors).toEqual(['name must be a string', 'property x should not exist']);
    expect(p.detail).toContain('name must be a string');
  });

  it('maps Nest HTTP errors by status', () => {
    expect(filter.toProblem(new NotFoundException('Cannot GET /nope'), req)).toMatchObject({
      status: 404,
      code: 'PLATFORM.NOT_FOUND',
      detail: 'Cannot GET /nope',
    });
    expect(filter.toProblem(new HttpException({ code: 'PLATFORM.FORBIDDEN', message: 'no' }, 403), req)).toMatchObject({
      status: 403,
      code: 'PLATFORM.FORBIDDEN',
      detail: 'no',
    });
  });

  it('hides unknown errors behind a 500 with an error id, never the message or stack', () => {
    const secret = new Error('duplicate key value violates unique constraint "x" DETAIL: password=hunter2');
    const p = filter.toProblem(secret, req);
    expect(p.status).toBe(500);
    expect(p.code).toBe('PLATFORM.INTERNAL');
    expect(p.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(p)).not.toMatch(/hunter2|duplicate key|at Object|\.ts:/);
    expect(p.detail).toContain(p.errorId as string);
  });

  it('treats a 5xx domain error as its own status', () => {
    expect(
      filter.toProblem(new DomainError('PLATFORM.COPY_FAILED', 'internal', 'COPY into raw.x failed'), req),
    ).toMatchObject({ status: 500, code: 'PLATFORM.COPY_FAILED' });
  });

  it('reports malformed JSON bodies as 400 PLATFORM.MALFORMED_BODY', () => {
    const bodyParserError = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), {
      status: 400,
      expose: true,
      type: 'entity.parse.failed',
    });
    expect(filter.toProblem(bodyParserError, req)).toMatchObject({
      status: 400,
      code: 'PLATFORM.MALFORMED_BODY',
      detail: 'The request body is not valid JSON',
    });
  });

  it('reports an unhealthy terminus check as 503 PLATFORM.UNHEALTHY naming the check', () => {
    const e = new ServiceUnavailableException({
      status: 'error',
      info: {},
      error: { database: { status: 'down', message: 'ECONNREFUSED' } },
      details: { database: { status: 'down', message: 'ECONNREFUSED' } },
    });
    expect(filter.toProblem(e, req)).toMatchObject({
      status: 503,
      code: 'PLATFORM.UNHEALTHY',
      detail: 'Unhealthy: database is down',
      checks: { database: { status: 'down' } },
    });
  });

  it('turns a cancelled statement no route handled into 503 PLATFORM.STATEMENT_TIMEOUT, not a 500', () => {
    const pgError = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    const p = filter.toProblem(pgError, req);
    expect(p).toMatchObject({ status: 503, code: 'PLATFORM.STATEMENT_TIMEOUT' });
    expect(p.errorId).toBeUndefined();
    expect(p.detail).not.toContain('canceling statement');
    // another SQLSTATE stays an internal error
    expect(filter.toProblem(Object.assign(new Error('boom'), { code: '42P01' }), req)).toMatchObject({
      status: 500,
      code: 'PLATFORM.INTERNAL',
    });
  });
});

describe('withoutRowValues', () => {
  const pgError = (message: string, fields: Record<string, string>) => Object.assign(new Error(message), fields);

  it('masks the row values a PostgreSQL error quotes in its detail, where and (data errors) message', () => {
    const dup = withoutRowValues(
      pgError('duplicate key value violates unique constraint "people_pkey"', {
        code: '23505',
        detail: 'Key (email)=(ada@x.io) already exists.',
      }),
    );
    expect(dup).toMatchObject({
      message: 'duplicate key value violates unique constraint "people_pkey"',
      detail: 'Key (email)=(***) already exists.',
    });
    const check = withoutRowValues(
      pgError('new row for relation "people" violates check constraint "c"', {
        code: '23514',
        detail: 'Failing row contains (1, ada@x.io, null).',
      }),
    );
    expect((check as unknown as { detail: string }).detail).toBe('Failing row contains (***).');
    const cast = withoutRowValues(
      pgError('invalid input syntax for type integer: "ada@x.io"', {
        code: '22P02',
        where: 'COPY people, line 2, column score: "ada@x.io"',
      }),
    );
    expect(cast.message).toBe('invalid input syntax for type integer: "***"');
    expect(cast.stack).not.toContain('ada@x.io');
    expect((cast as unknown as { where: string }).where).toBe('COPY people, line 2, column score: "***"');
    expect(cast).toBeInstanceOf(Error);
  });

  it('leaves other errors as they are', () => {
    const e = new Error('boom "quoted"');
    expect(withoutRowValues(e)).toBe(e);
  });
});
