import { HttpStatus } from '@nestjs/common';
import type { ErrorKind } from './domain-error';

/** RFC 9457 problem details, as every Weir error response carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errorId?: string;
  errors?: unknown[];
  [extra: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem `type` URI for a code: stable, documented in the README. */
export function problemType(code: string): string {
  return `urn:weir:problem:${code}`;
}

const STATUS_CODES: Record<number, string> = {
  400: 'PLATFORM.BAD_REQUEST',
  401: 'PLATFORM.UNAUTHENTICATED',
  403: 'PLATFORM.FORBIDDEN',
  404: 'PLATFORM.NOT_FOUND',
  405: 'PLATFORM.METHOD_NOT_ALLOWED',
  409: 'PLATFORM.CONFLICT',
  413: 'PLATFORM.PAYLOAD_TOO_LARGE',
  415: 'PLATFORM.UNSUPPORTED_MEDIA_TYPE',
  429: 'PLATFORM.TOO_MANY_REQUESTS',
  503: 'PLATFORM.UNAVAILABLE',
};

/** The HTTP status of each kind of domain error: the one place a kind becomes a status. */
export const KIND_STATUS: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  internal: 500,
  unsupported: 501,
  unavailable: 503,
};

export function statusOfKind(kind: ErrorKind): number {
  return KIND_STATUS[kind] ?? 500;
}

/** Stable code for an HTTP status when nothing more specific is known. */
export function codeForStatus(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'PLATFORM.INTERNAL' : `PLATFORM.HTTP_${status}`);
}

export function titleForStatus(status: number): string {
  const name = HttpStatus[status];
  if (typeof name !== 'string') return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}
