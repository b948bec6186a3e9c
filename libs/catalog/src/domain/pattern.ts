import { RE2JS } from 're2js';

/**
 * Contract `pattern`s run on every loaded value of their column, and a pattern is user input: they
 * are evaluated by RE2JS (the JavaScript port of Google's RE2), whose matching is linear in the
 * input, so no pattern — `(a+)+$` against 50,000 `a`s and a `!` included — can hold the event loop
 * (V8's backtracking engine took seconds to forever). RE2 has no backreferences and no lookaround:
 * such a pattern is refused when the contract is saved. Semantics as RegExp#test: a match anywhere
 * (anchor with ^ and $).
 */
export interface CompiledPattern {
  test(value: string): boolean;
}

export function compilePattern(source: string): CompiledPattern {
  const re = RE2JS.compile(source);
  return { test: (value) => re.matcher(value).find() };
}

/** Why a pattern cannot be used, or undefined. */
export function patternProblem(source: string): string | undefined {
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (e) {
    return `pattern is not a valid regular expression for RE2 (no backreferences or lookaround): ${(e as Error).message}`;
  }
}
