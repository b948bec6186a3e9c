import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../errors/domain-error';
import { BodyTooDeepError, InvalidStringError } from '../errors/platform.errors';

/** Deepest JSON nesting a request body may have (WEIR: one rule for every route). */
export const MAX_BODY_DEPTH = 100;

function badString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which PostgreSQL cannot store';
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed())
    return 'contains a lone surrogate (not well-formed UTF-16)';
  return undefined;
}

/** Where a value sits, kept as a parent chain: the JSON pointer string is built only for an error. */
type At = { parent: At | undefined; key: string | number } | undefined;
function pointer(at: At): string {
  const keys: string[] = [];
  for (let a = at; a; a = a.parent) keys.push(String(a.key).replace(/~/g, '~0').replace(/\//g, '~1'));
  return keys.length ? `/${keys.reverse().join('/')}` : '/';
}

/**
 * The first problem of a parsed value, walked without recursion: a string (value or key) with a NUL
 * or a lone surrogate (PLATFORM.INVALID_STRING), or nesting deeper than `maxDepth`
 * (PLATFORM.BODY_TOO_DEEP). Undefined when there is none. (OpenLineage events of megabytes pass
 * here: nothing is allocated per value but the stack entry.)
 */
export function inputProblem(
  value: unknown,
  where: 'body' | 'query',
  maxDepth = MAX_BODY_DEPTH,
): DomainError | undefined {
  const stack: [unknown, number, At][] = [[value, 0, undefined]];
  while (stack.length) {
    const [v, depth, at] = stack.pop()!;
    if (typeof v === 'string') {
      const why = badString(v);
      if (why) return new InvalidStringError(`The ${where} at ${pointer(at)} ${why}`, { pointer: pointer(at) });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth)
      return new BodyTooDeepError(`The ${where} is nested more than ${maxDepth} levels deep (at ${pointer(at)})`, {
        maxDepth,
      });
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], depth + 1, { parent: at, key: i }]);
    } else {
      for (const k of Object.keys(v)) {
        const why = badString(k);
        if (why)
          return new InvalidStringError(`A key of the ${where} at ${pointer(at)} ${why}`, { pointer: pointer(at) });
        stack.push([(v as Record<string, unknown>)[k], depth + 1, { parent: at, key: k }]);
      }
    }
  }
  return undefined;
}

/**
 * One rule for every route, ahead of validation: path segments, query values and JSON bodies hold
 * no NUL and no lone surrogate, and bodies nest at most {@link MAX_BODY_DEPTH} levels (deeper JSON
 * overflowed the validator's stack: a 500).
 */
export function inputGuard(maxDepth = MAX_BODY_DEPTH) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    for (const seg of req.path.split('/')) {
      if (!seg.includes('%')) continue;
      let d: string;
      try {
        d = decodeURIComponent(seg);
      } catch {
        return next(new InvalidStringError('The path is not valid percent-encoded UTF-8'));
      }
      const why = badString(d);
      if (why) return next(new InvalidStringError(`The path ${why}`));
    }
    const problem = inputProblem(req.query, 'query', 8) ?? inputProblem(req.body, 'body', maxDepth);
    next(problem);
  };
}
