import { setFlagsFromString } from 'node:v8';
import { RE2JS } from 're2js';

/**
 * Contract `pattern`s run on every loaded value of their column, and a pattern is user input, so
 * no pattern may hold the event loop (`(a+)+$` against 50,000 `a`s and a `!` took V8's
 * backtracking engine forever). Patterns run on V8's own engine with its linear-time fallback
 * switched on: a match that backtracks past V8's bound (50,000 backtracks) is finished by V8's
 * linear (automaton) engine, RE2's semantics. Simple patterns keep V8's speed (~15 ns a match,
 * where RE2JS, the JavaScript port of RE2, takes ~700 ns and cost a 500k-row load 0.3 s).
 * A self-test at load checks the fallback works; if it does not (a Node whose V8 lacks it), every
 * pattern runs on RE2JS instead. The linear engine has no backreferences and no lookaround, so such
 * patterns are refused when the contract is saved (they must also be valid for RE2).
 * Semantics as RegExp#test: a match anywhere (anchor with ^ and $).
 */
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
const V8_LINEAR_FALLBACK = (() => {
  const t0 = Date.now();
  // exponential for a backtracking engine (2^22 steps); instant with the fallback
  new RegExp('(a+)+$').test('a'.repeat(22) + '!');
  return Date.now() - t0 < 40;
})();

export interface CompiledPattern {
  test(value: string): boolean;
}

export function compilePattern(source: string): CompiledPattern {
  if (V8_LINEAR_FALLBACK) {
    const re = new RegExp(source);
    return { test: (value) => re.test(value) };
  }
  const re = RE2JS.compile(source);
  return { test: (value) => re.matcher(value).find() };
}

/** Why a pattern cannot be used, or undefined: it must be valid for JavaScript and for RE2 (no backreferences or lookaround). */
export function patternProblem(source: string): string | undefined {
  try {
    new RegExp(source);
  } catch (e) {
    return `pattern is not a valid regular expression (${(e as Error).message})`;
  }
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (e) {
    return `pattern uses what a linear-time engine cannot run (backreferences, lookaround) or RE2 does not accept: ${(e as Error).message}`;
  }
}
