/**
 * Jinja as dbt renders it, on nunjucks.
 *
 * Why nunjucks extended rather than minijinja-js: dbt's runtime needs the engine's macros as
 * first-class values — `adapter.dispatch('x')` returns a macro, JS calls macros of any file, macros
 * receive `caller`, `return()` ends a macro with a value — and it needs JS functions that reach the
 * database in the middle of a render. minijinja-js (a wasm build) exposes neither its macros nor
 * its state to JavaScript ("Access of the template engine state from JavaScript is not possible")
 * and corrupts its runtime on a panic, so dbt's dispatch model cannot be built on it. nunjucks
 * compiles templates to JavaScript whose macros are plain functions; what it lacks of Jinja2 is
 * patched here, once, in its parser, compiler and runtime:
 *
 * - `True`/`False`/`None`, printed as Python prints them; lists and dicts printed as Python reprs
 * - trailing commas in calls; `{% do expr %}`; `{% set ns.attr = v %}`; `namespace()`
 * - `return(value)` ends the macro that calls it with that value (a macro's frame is restored)
 * - Python methods on strings, lists and dicts (`.upper()`, `.split()`, `.items()`, `.append()`,
 *   `.format()`, …) and `%` string formatting
 * - filters and tests dbt projects use (`map`, `unique`, `tojson`, `fromjson`, `as_bool`, …)
 * - the security guard: no template reaches Function, prototypes or property descriptors
 */
import nunjucks from 'nunjucks';
import * as yaml from 'yaml';

const nodes = require('nunjucks/src/nodes') as any;
const lexer = require('nunjucks/src/lexer') as any;
const { Parser } = require('nunjucks/src/parser') as any;
const { Compiler } = require('nunjucks/src/compiler') as any;
const { Frame } = require('nunjucks/src/runtime') as any;
const runtime = (nunjucks as any).runtime;

/** `return(v)` in flight: caught by the macro that runs it. */
export class MacroReturn {
  constructor(readonly value: unknown) {}
}

/** A Jinja error with the template line where it happened (the message carries it too). */
export class JinjaError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

const FORBIDDEN_MEMBERS = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'call',
  'apply',
  'bind',
]);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof runtime.SafeString);

/** Python's repr of a value, as Jinja prints containers. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string' || v instanceof runtime.SafeString)
    return `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (
    typeof v === 'object' &&
    typeof (v as { toString?: unknown }).toString === 'function' &&
    (v as object).toString !== Object.prototype.toString
  )
    return String(v);
  if (isPlainObject(v))
    return `{${Object.entries(v)
      .filter(([k]) => k !== '__keywords')
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}

/** Python's str() of a value, as `{{ v }}` prints it. */
export function pyStr(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) || isPlainObject(v)) {
    const own = (v as { toString?: unknown }).toString;
    if (isPlainObject(v) && typeof own === 'function' && own !== Object.prototype.toString) return String(v);
    return pyRepr(v);
  }
  return String(v);
}

/** nunjucks passes keyword arguments as a trailing object marked `__keywords`. */
export function splitArgs(args: unknown[]): { positional: unknown[]; kwargs: Record<string, unknown> } {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  if (last && typeof last === 'object' && (last as Record<string, unknown>)['__keywords']) {
    const { __keywords: _k, ...rest } = last;
    return { positional: args.slice(0, -1), kwargs: rest };
  }
  return { positional: args, kwargs: {} };
}

/** Python `%` formatting: `%s`, `%r`, `%d`, `%i`, `%f` (with width/precision), `%%`. */
function percentFormat(fmt: string, arg: unknown): string {
  const values = Array.isArray(arg) ? arg : [arg];
  const named = isPlainObject(arg) ? arg : undefined;
  let i = 0;
  return fmt.replace(
    /%(\([^)]*\))?([-+ 0#]*)(\d+)?(?:\.(\d+))?([srdifxXoeEgG%])/g,
    (_m, key, flags, width, prec, conv) => {
      if (conv === '%') return '%';
      const v = key && named ? named[key.slice(1, -1)] : values[i++];
      let s: string;
      switch (conv) {
        case 'r':
          s = pyRepr(v);
          break;
        case 'd':
        case 'i':
          s = String(Math.trunc(Number(v)));
          break;
        case 'f':
          s = Number(v).toFixed(prec !== undefined ? Number(prec) : 6);
          break;
        case 'x':
          s = Math.trunc(Number(v)).toString(16);
          break;
        default:
          s = pyStr(v);
      }
      if (width && s.length < Number(width))
        s = flags?.includes('-')
          ? s.padEnd(Number(width))
          : s.padStart(Number(width), flags?.includes('0') ? '0' : ' ');
      return s;
    },
  );
}

/** Python `str.format`: `{}`, `{0}`, `{name}`, with `{{`/`}}` escapes (no format specs beyond `:`-free fields). */
function strFormat(fmt: string, args: unknown[]): string {
  const { positional, kwargs } = splitArgs(args);
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const name = (field ?? '').split(/[:!]/)[0];
    const v = name === '' ? positional[auto++] : /^\d+$/.test(name) ? positional[Number(name)] : kwargs[name];
    return pyStr(v);
  });
}

function pySplit(s: string, sep?: unknown, maxsplit?: unknown): string[] {
  const max = typeof maxsplit === 'number' && maxsplit >= 0 ? maxsplit : Infinity;
  if (sep === undefined || sep === null) {
    const parts = s
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '');
    if (parts.length - 1 <= max) return parts;
    const head = parts.slice(0, max);
    let rest = s.trim();
    for (const h of head) rest = rest.slice(rest.indexOf(h) + h.length).replace(/^\s+/, '');
    return [...head, rest];
  }
  const all = s.split(String(sep));
  if (all.length - 1 <= max) return all;
  return [...all.slice(0, max), all.slice(max).join(String(sep))];
}

const stripChars = (chars: unknown) =>
  chars === undefined || chars === null ? '\\s' : String(chars).replace(/[\\\]^-]/g, '\\$&');

/** Python's str methods, by name. */
const STRING_METHODS: Record<string, (s: string, ...a: any[]) => unknown> = {
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  strip: (s, c) => s.replace(new RegExp(`^[${stripChars(c)}]+|[${stripChars(c)}]+$`, 'g'), ''),
  lstrip: (s, c) => s.replace(new RegExp(`^[${stripChars(c)}]+`), ''),
  rstrip: (s, c) => s.replace(new RegExp(`[${stripChars(c)}]+$`), ''),
  startswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.startsWith(String(x))) : s.startsWith(String(p))),
  endswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.endsWith(String(x))) : s.endsWith(String(p))),
  split: (s, sep, max) => pySplit(s, sep, max),
  rsplit: (s, sep, max) => {
    if (max === undefined || max < 0) return pySplit(s, sep);
    const all = pySplit(s, sep);
    const j = sep === undefined || sep === null ? ' ' : String(sep);
    return all.length - 1 <= max ? all : [all.slice(0, all.length - max).join(j), ...all.slice(all.length - max)];
  },
  splitlines: (s) => s.split(/\r?\n/).filter((x, i, a) => i < a.length - 1 || x !== ''),
  replace: (s, a, b, count) =>
    count === undefined || count < 0
      ? s.split(String(a)).join(String(b))
      : pySplit(s, String(a), count).join(String(b)),
  join: (s, items) => (Array.isArray(items) ? items : [...(items as Iterable<unknown>)]).map(pyStr).join(s),
  format: (s, ...a) => strFormat(s, a),
  find: (s, x) => s.indexOf(String(x)),
  rfind: (s, x) => s.lastIndexOf(String(x)),
  index: (s, x) => {
    const i = s.indexOf(String(x));
    if (i < 0) throw new Error('substring not found');
    return i;
  },
  count: (s, x) => s.split(String(x)).length - 1,
  title: (s) => s.replace(/\w\S*/g, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase()),
  capitalize: (s) => (s ? s[0].toUpperCase() + s.slice(1).toLowerCase() : s),
  isdigit: (s) => /^\d+$/.test(s),
  isnumeric: (s) => /^\d+$/.test(s),
  isalpha: (s) => /^[A-Za-z]+$/.test(s),
  isalnum: (s) => /^[A-Za-z0-9]+$/.test(s),
  isupper: (s) => s !== s.toLowerCase() && s === s.toUpperCase(),
  islower: (s) => s !== s.toUpperCase() && s === s.toLowerCase(),
  isspace: (s) => /^\s+$/.test(s),
  zfill: (s, n) => s.padStart(Number(n), '0'),
  ljust: (s, n, c = ' ') => s.padEnd(Number(n), String(c)),
  rjust: (s, n, c = ' ') => s.padStart(Number(n), String(c)),
  center: (s, n) => {
    const total = Math.max(0, Number(n) - s.length);
    return ' '.repeat(Math.floor(total / 2)) + s + ' '.repeat(Math.ceil(total / 2));
  },
  partition: (s, sep) => {
    const i = s.indexOf(String(sep));
    return i < 0 ? [s, '', ''] : [s.slice(0, i), String(sep), s.slice(i + String(sep).length)];
  },
  encode: (s) => s,
  decode: (s) => s,
  removeprefix: (s, p) => (s.startsWith(String(p)) ? s.slice(String(p).length) : s),
  removesuffix: (s, p) => (s.endsWith(String(p)) && String(p) ? s.slice(0, -String(p).length) : s),
  swapcase: (s) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  casefold: (s) => s.toLowerCase(),
};

/** Python's list methods, by name. */
const LIST_METHODS: Record<string, (l: unknown[], ...a: any[]) => unknown> = {
  append: (l, x) => {
    l.push(x);
    return undefined;
  },
  extend: (l, xs) => {
    l.push(...(xs as Iterable<unknown>));
    return undefined;
  },
  insert: (l, i, x) => {
    l.splice(Number(i), 0, x);
    return undefined;
  },
  pop: (l, i) => (i === undefined ? l.pop() : l.splice(Number(i) < 0 ? l.length + Number(i) : Number(i), 1)[0]),
  remove: (l, x) => {
    const i = l.indexOf(x);
    if (i < 0) throw new Error('list.remove(x): x not in list');
    l.splice(i, 1);
    return undefined;
  },
  index: (l, x) => {
    const i = l.indexOf(x);
    if (i < 0) throw new Error(`${pyRepr(x)} is not in list`);
    return i;
  },
  count: (l, x) => l.filter((y) => y === x).length,
  reverse: (l) => {
    l.reverse();
    return undefined;
  },
  sort: (l, ...a) => {
    const { kwargs } = splitArgs(a);
    l.sort((x: any, y: any) => (x < y ? -1 : x > y ? 1 : 0));
    if (kwargs['reverse']) l.reverse();
    return undefined;
  },
  copy: (l) => [...l],
  clear: (l) => {
    l.length = 0;
    return undefined;
  },
};

/** Python's dict methods, by name (when the dict has no own key of that name). */
const DICT_METHODS: Record<string, (d: Record<string, unknown>, ...a: any[]) => unknown> = {
  items: (d) => Object.entries(d).filter(([k]) => k !== '__keywords'),
  keys: (d) => Object.keys(d).filter((k) => k !== '__keywords'),
  values: (d) =>
    Object.entries(d)
      .filter(([k]) => k !== '__keywords')
      .map(([, v]) => v),
  get: (d, k, dflt = null) => (Object.prototype.hasOwnProperty.call(d, String(k)) ? d[String(k)] : dflt),
  update: (d, ...a) => {
    const { positional, kwargs } = splitArgs(a);
    for (const o of positional)
      if (Array.isArray(o)) for (const [k, v] of o as [string, unknown][]) d[k] = v;
      else Object.assign(d, o);
    Object.assign(d, kwargs);
    return undefined;
  },
  pop: (d, k, ...dflt) => {
    if (Object.prototype.hasOwnProperty.call(d, String(k))) {
      const v = d[String(k)];
      delete d[String(k)];
      return v;
    }
    if (dflt.length) return dflt[0];
    throw new Error(`KeyError: ${pyRepr(k)}`);
  },
  setdefault: (d, k, v = null) => {
    if (!Object.prototype.hasOwnProperty.call(d, String(k))) d[String(k)] = v;
    return d[String(k)];
  },
  copy: (d) => ({ ...d }),
  has_key: (d, k) => Object.prototype.hasOwnProperty.call(d, String(k)),
};

/** Member lookup with Python's methods; refuses the members that reach JavaScript's internals. */
function memberLookup(obj: unknown, val: unknown): unknown {
  const key = String(val);
  if (FORBIDDEN_MEMBERS.has(key)) throw new Error(`Templates may not access "${key}"`);
  if (obj === undefined || obj === null) return undefined;
  if (typeof obj === 'string' || obj instanceof runtime.SafeString) {
    const s = String(obj);
    if (typeof val === 'number') return s[val < 0 ? s.length + val : val];
    const m = STRING_METHODS[key];
    if (m) return (...a: unknown[]) => m(s, ...a);
    if (key === 'length') return s.length;
    return undefined;
  }
  if (Array.isArray(obj)) {
    if (typeof val === 'number') return obj[val < 0 ? obj.length + val : val];
    // array subclasses (result tables and rows) have their own members: `table.rows`, `row['id']`
    if (Object.getPrototypeOf(obj) !== Array.prototype && key in obj) {
      const v = (obj as unknown as Record<string, unknown>)[key];
      return typeof v === 'function' ? (...a: unknown[]) => (v as (...x: unknown[]) => unknown).apply(obj, a) : v;
    }
    const m = LIST_METHODS[key];
    if (m) return (...a: unknown[]) => m(obj, ...a);
    if (key === 'length') return obj.length;
    return undefined;
  }
  if (typeof obj === 'object' || typeof obj === 'function') {
    const o = obj as Record<string, unknown>;
    const has = key in o;
    if (has) {
      const v = o[key];
      // methods of a class are bound to their object; own members (functions, classes) are returned as they are
      if (typeof v === 'function' && !isMacro(v) && !Object.prototype.hasOwnProperty.call(o, key))
        return (...a: unknown[]) => (v as (...x: unknown[]) => unknown).apply(o, a);
      return v;
    }
    if (isPlainObject(o)) {
      const m = DICT_METHODS[key];
      if (m) return (...a: unknown[]) => m(o, ...a);
    }
    return undefined;
  }
  return undefined;
}

const isMacro = (f: unknown): boolean =>
  typeof f === 'function' && (f as { __weirMacro?: boolean }).__weirMacro === true;

let installed = false;

/** Patches nunjucks' parser, compiler and runtime once (see the module comment). */
function install(): void {
  if (installed) return;
  installed = true;
  nunjucks.installJinjaCompat();

  // trailing commas in calls: `f(a, b,)`
  Parser.prototype.parseSignature = function parseSignature(this: any, tolerant: boolean, noParens: boolean) {
    let tok = this.peekToken();
    if (!noParens && tok.type !== lexer.TOKEN_LEFT_PAREN) {
      if (tolerant) return null;
      this.fail('expected arguments', tok.lineno, tok.colno);
    }
    if (tok.type === lexer.TOKEN_LEFT_PAREN) tok = this.nextToken();
    const args = new nodes.NodeList(tok.lineno, tok.colno);
    const kwargs = new nodes.KeywordArgs(tok.lineno, tok.colno);
    let checkComma = false;
    for (;;) {
      tok = this.peekToken();
      if (!noParens && tok.type === lexer.TOKEN_RIGHT_PAREN) {
        this.nextToken();
        break;
      } else if (noParens && tok.type === lexer.TOKEN_BLOCK_END) break;
      if (checkComma) {
        if (!this.skip(lexer.TOKEN_COMMA)) this.fail('expected a comma between arguments', tok.lineno, tok.colno);
        const next = this.peekToken();
        if (!noParens && next.type === lexer.TOKEN_RIGHT_PAREN) {
          this.nextToken();
          break;
        }
      }
      const arg = this.parseExpression();
      if (this.skipValue(lexer.TOKEN_OPERATOR, '='))
        kwargs.addChild(new nodes.Pair(arg.lineno, arg.colno, arg, this.parseExpression()));
      else args.addChild(arg);
      checkComma = true;
    }
    if (kwargs.children.length) args.addChild(kwargs);
    return args;
  };

  // trailing commas in list, dict and tuple literals: `[a, b,]`, `{'a': 1,}`
  Parser.prototype.parseAggregate = function (this: any) {
    const tok = this.nextToken();
    let node: any;
    if (tok.type === lexer.TOKEN_LEFT_PAREN) node = new nodes.Group(tok.lineno, tok.colno);
    else if (tok.type === lexer.TOKEN_LEFT_BRACKET) node = new nodes.Array(tok.lineno, tok.colno);
    else if (tok.type === lexer.TOKEN_LEFT_CURLY) node = new nodes.Dict(tok.lineno, tok.colno);
    else return null;
    const closes = (t: string) =>
      t === lexer.TOKEN_RIGHT_PAREN || t === lexer.TOKEN_RIGHT_BRACKET || t === lexer.TOKEN_RIGHT_CURLY;
    let trailingComma = false;
    for (;;) {
      if (closes(this.peekToken().type)) {
        this.nextToken();
        break;
      }
      if (node.children.length > 0) {
        if (!this.skip(lexer.TOKEN_COMMA)) this.fail('expected a comma between items', tok.lineno, tok.colno);
        if (closes(this.peekToken().type)) {
          trailingComma = true;
          this.nextToken();
          break;
        }
      }
      if (node instanceof nodes.Dict) {
        const key = this.parsePrimary();
        if (!this.skip(lexer.TOKEN_COLON)) this.fail('expected a colon after a dict key', tok.lineno, tok.colno);
        node.addChild(new nodes.Pair(key.lineno, key.colno, key, this.parseExpression()));
      } else node.addChild(this.parseExpression());
    }
    // `(a,)` is a one-item tuple
    if (node instanceof nodes.Group && trailingComma) return new nodes.Array(tok.lineno, tok.colno, node.children);
    return node;
  };

  // `{% set ns.attr = value %}`
  const parseSet = Parser.prototype.parseSet;
  Parser.prototype.parseSet = function (this: any) {
    const tag = this.peekToken();
    const saved = { tokens: { ...this.tokens }, peeked: this.peeked };
    this.skipSymbol('set');
    const target = this.peekToken();
    if (target.type === lexer.TOKEN_SYMBOL) {
      this.nextToken();
      const dot = this.peekToken();
      if (dot.type === lexer.TOKEN_OPERATOR && dot.value === '.') {
        this.nextToken();
        const attr = this.nextToken();
        if (!this.skipValue(lexer.TOKEN_OPERATOR, '='))
          this.fail('expected = after the attribute of set', attr.lineno, attr.colno);
        const value = this.parseExpression();
        this.advanceAfterBlockEnd(tag.value);
        const args = new nodes.NodeList(tag.lineno, tag.colno, [
          new nodes.Symbol(tag.lineno, tag.colno, target.value),
          new nodes.Literal(tag.lineno, tag.colno, attr.value),
          value,
        ]);
        return new nodes.Output(tag.lineno, tag.colno, [
          new nodes.FunCall(tag.lineno, tag.colno, new nodes.Symbol(tag.lineno, tag.colno, '__weir_setattr'), args),
        ]);
      }
    }
    Object.assign(this.tokens, saved.tokens);
    this.peeked = saved.peeked;
    return parseSet.call(this);
  };

  // a macro's frame is restored however it ends (`return()` throws through it)
  const compileMacro = Compiler.prototype._compileMacro;
  Compiler.prototype._compileMacro = function (this: any, node: any, frame: any) {
    const emitLines = this._emitLines;
    const emitLine = this._emitLine;
    let depth = 0;
    this._emitLines = function (this: any, ...lines: string[]) {
      if (lines[4] === 'var callerFrame = frame;' && depth === 0) {
        depth++;
        return emitLines.call(this, ...lines.slice(0, 5), 'try {', ...lines.slice(5));
      }
      return emitLines.apply(this, lines);
    };
    this._emitLine = function (this: any, line: string) {
      if (depth === 1 && /^frame = (frame\.pop\(\)|callerFrame);$/.test(line)) {
        depth = 2;
        return emitLine.call(this, line);
      }
      if (depth === 2 && line === '});') {
        depth = 3;
        emitLine.call(this, `} finally { frame = callerFrame; }`);
        return emitLine.call(this, line);
      }
      return emitLine.call(this, line);
    };
    try {
      return compileMacro.call(this, node, frame);
    } finally {
      this._emitLines = emitLines;
      this._emitLine = emitLine;
    }
  };

  // a parenthesised list of several expressions is a tuple (`("x", 3)`), not JavaScript's comma operator
  const compileGroup = Compiler.prototype.compileGroup;
  Compiler.prototype.compileGroup = function (this: any, node: any, frame: any) {
    if (node.children.length < 2) return compileGroup.call(this, node, frame);
    this._emit('[');
    node.children.forEach((c: any, i: number) => {
      if (i > 0) this._emit(', ');
      this.compile(c, frame);
    });
    this._emit(']');
  };

  // Python's `%` on strings
  Compiler.prototype.compileMod = function (this: any, node: any, frame: any) {
    this._emit('runtime.__weirMod(');
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit(')');
  };
  runtime.__weirMod = (a: unknown, b: unknown) =>
    typeof a === 'string' || a instanceof runtime.SafeString
      ? percentFormat(String(a), b)
      : (a as number) % (b as number);

  // macros catch `return()`; they are marked so member lookup does not rebind them
  const makeMacro = runtime.makeMacro;
  runtime.makeMacro = (argNames: string[], kwargNames: string[], func: (...a: unknown[]) => unknown) => {
    const m = makeMacro(argNames, kwargNames, function (this: unknown, ...args: unknown[]) {
      try {
        return func.apply(this, args);
      } catch (e) {
        if (e instanceof MacroReturn) return e.value;
        throw e;
      }
    });
    m.__weirMacro = true;
    return m;
  };

  // Python semantics only while a dbt render runs (the older compile path keeps nunjucks' own)
  const lookup = runtime.memberLookup;
  runtime.memberLookup = (o: unknown, v: unknown) => (pythonic > 0 ? memberLookup(o, v) : lookup(o, v));
  const suppress = runtime.suppressValue;
  runtime.suppressValue = (v: unknown, autoescape: boolean) => {
    if (pythonic === 0) return suppress(v, autoescape);
    const s = v instanceof runtime.SafeString ? String(v) : pyStr(v);
    if (renderBudget) {
      renderBudget.bytes -= s.length;
      if (renderBudget.bytes < 0)
        throw new Error(`the template renders more than ${RENDER_LIMITS.outputBytes} characters`);
    }
    return s;
  };
  const callWrap = runtime.callWrap;
  runtime.callWrap = (...a: unknown[]) => {
    if (pythonic > 0 && renderBudget) {
      renderBudget.steps--;
      if (renderBudget.steps < 0)
        throw new Error(`the template runs more than ${RENDER_LIMITS.steps} macro and function calls`);
      if ((renderBudget.steps & 1023) === 0 && Date.now() > renderBudget.deadline)
        throw new Error(`the render takes longer than ${RENDER_LIMITS.ms} ms`);
    }
    return callWrap(...a);
  };
  void Frame;
}

/** Bounds of one dbt invocation's rendering (projects can be uploaded by API users). */
export const RENDER_LIMITS = { steps: 20_000_000, outputBytes: 200 * 1024 * 1024, ms: 600_000 };
let pythonic = 0;
let renderBudget: { steps: number; bytes: number; deadline: number } | undefined;

/** Runs `fn` with Jinja's Python semantics on (and the render bounds counting). */
export function withJinja<T>(fn: () => T): T {
  install();
  const outer = renderBudget;
  if (!outer)
    renderBudget = {
      steps: RENDER_LIMITS.steps,
      bytes: RENDER_LIMITS.outputBytes,
      deadline: Date.now() + RENDER_LIMITS.ms,
    };
  pythonic++;
  try {
    return fn();
  } finally {
    pythonic--;
    renderBudget = outer;
  }
}

/** A Jinja-compatible environment with dbt's language additions (globals are the caller's). */
export function jinjaEnvironment(): nunjucks.Environment {
  install();
  const env = new nunjucks.Environment(null, {
    autoescape: false,
    throwOnUndefined: false,
    trimBlocks: false,
    lstripBlocks: false,
  });
  env.addExtension('WeirDo', {
    tags: ['do'],
    parse(parser: any) {
      const tok = parser.nextToken();
      const expr = parser.parseExpression();
      parser.advanceAfterBlockEnd(tok.value);
      return new nodes.Output(tok.lineno, tok.colno, [
        new nodes.FunCall(
          tok.lineno,
          tok.colno,
          new nodes.Symbol(tok.lineno, tok.colno, '__weir_discard'),
          new nodes.NodeList(tok.lineno, tok.colno, [expr]),
        ),
      ]);
    },
  });
  const g = (name: string, v: unknown) => env.addGlobal(name, v);
  g('__weir_discard', () => '');
  g('__weir_setattr', (o: Record<string, unknown>, k: string, v: unknown) => {
    if (o === null || typeof o !== 'object') throw new Error(`cannot set attribute ${k} of ${pyRepr(o)}`);
    if (FORBIDDEN_MEMBERS.has(k)) throw new Error(`Templates may not access "${k}"`);
    o[k] = v;
    return '';
  });
  g('True', true);
  g('False', false);
  g('None', null);
  g('return', (v: unknown) => {
    throw new MacroReturn(v);
  });
  g('namespace', (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    return Object.assign({}, ...positional.filter(isPlainObject), kwargs);
  });
  g('dict', (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    const out: Record<string, unknown> = {};
    for (const p of positional) {
      if (Array.isArray(p)) for (const [k, v] of p as [string, unknown][]) out[k] = v;
      else if (isPlainObject(p)) Object.assign(out, p);
    }
    return Object.assign(out, kwargs);
  });
  g('list', (x: unknown) => toList(x));
  g('set', (x: unknown) => [...new Set(toList(x))]);
  g('zip', (...a: unknown[]) => {
    const lists = a.map(toList);
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: Number.isFinite(n) ? n : 0 }, (_, i) => lists.map((l) => l[i]));
  });
  g('tojson', (v: unknown, ...a: unknown[]) => toJson(v, a));
  g('fromjson', (s: unknown, dflt: unknown = null) => {
    try {
      return JSON.parse(String(s));
    } catch {
      return dflt;
    }
  });
  g('toyaml', (v: unknown) => yaml.stringify(v));
  g('fromyaml', (s: unknown, dflt: unknown = null) => {
    try {
      return yaml.parse(String(s));
    } catch {
      return dflt;
    }
  });
  g('string', (v: unknown) => pyStr(v));
  g('str', (v: unknown) => pyStr(v));
  g('int', (v: unknown) => Math.trunc(Number(v)));
  g('float', (v: unknown) => Number(v));
  g('bool', (v: unknown) => truthy(v));
  g('len', (v: unknown) => lengthOf(v));
  g('max', (...a: unknown[]) => Math.max(...(a.length === 1 ? toList(a[0]) : a).map(Number)));
  g('min', (...a: unknown[]) => Math.min(...(a.length === 1 ? toList(a[0]) : a).map(Number)));
  g('abs', (v: unknown) => Math.abs(Number(v)));
  g('sorted', (v: unknown) => [...toList(v)].sort((x: any, y: any) => (x < y ? -1 : x > y ? 1 : 0)));
  g('enumerate', (v: unknown, start = 0) => toList(v).map((x, i) => [i + Number(start), x]));

  const f = (name: string, fn: (...a: any[]) => unknown) => env.addFilter(name, fn);
  f('tojson', (v: unknown, ...a: unknown[]) => toJson(v, a));
  f('fromjson', (s: unknown) => JSON.parse(String(s)));
  f('as_bool', (v: unknown) => (typeof v === 'string' ? /^(true|1|yes)$/i.test(v.trim()) : truthy(v)));
  f('as_number', (v: unknown) => Number(v));
  f('as_text', (v: unknown) => pyStr(v));
  f('as_native', (v: unknown) => {
    if (typeof v !== 'string') return v;
    try {
      return yaml.parse(v);
    } catch {
      return v;
    }
  });
  f('string', (v: unknown) => pyStr(v));
  f('int', (v: unknown, d = 0) => {
    const n = parseInt(String(v), 10);
    return Number.isNaN(n) ? d : n;
  });
  f('float', (v: unknown, d = 0) => {
    const n = parseFloat(String(v));
    return Number.isNaN(n) ? d : n;
  });
  f('bool', (v: unknown) => truthy(v));
  f('unique', (v: unknown) => [...new Set(toList(v))]);
  f('items', (v: unknown) => (isPlainObject(v) ? Object.entries(v) : []));
  f('count', (v: unknown) => lengthOf(v));
  f('map', (v: unknown, ...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    const list = toList(v);
    if (kwargs['attribute'] !== undefined) {
      const path = String(kwargs['attribute']).split('.');
      return list.map((x) => path.reduce<unknown>((o, k) => memberLookup(o, k), x) ?? kwargs['default']);
    }
    const name = positional[0];
    if (typeof name !== 'string') return list;
    const filter = (env as unknown as { getFilter(n: string): (...x: unknown[]) => unknown }).getFilter(name);
    return list.map((x) => filter(x, ...positional.slice(1)));
  });
  f('list', (v: unknown) => toList(v));
  f('join', (v: unknown, sep = '', attribute?: string) =>
    toList(v)
      .map((x) => (attribute ? memberLookup(x, attribute) : x))
      .map(pyStr)
      .join(String(sep)),
  );
  f('replace', (v: unknown, a: unknown, b: unknown, count?: number) => STRING_METHODS.replace(pyStr(v), a, b, count));
  f('trim', (v: unknown, chars?: string) => STRING_METHODS.strip(pyStr(v), chars));
  f('lower', (v: unknown) => pyStr(v).toLowerCase());
  f('upper', (v: unknown) => pyStr(v).toUpperCase());
  f('length', (v: unknown) => lengthOf(v));
  f('default', (v: unknown, d: unknown = '', boolean = false) => (v === undefined || (boolean && !truthy(v)) ? d : v));
  f('d', (v: unknown, d: unknown = '', boolean = false) => (v === undefined || (boolean && !truthy(v)) ? d : v));

  const t = (name: string, fn: (...a: any[]) => boolean) =>
    (env as unknown as { addTest(n: string, f: (...a: any[]) => boolean): void }).addTest(name, fn);
  t('none', (v: unknown) => v === null);
  t('defined', (v: unknown) => v !== undefined);
  t('undefined', (v: unknown) => v === undefined);
  t('string', (v: unknown) => typeof v === 'string' || v instanceof runtime.SafeString);
  t('number', (v: unknown) => typeof v === 'number');
  t('integer', (v: unknown) => Number.isInteger(v));
  t('float', (v: unknown) => typeof v === 'number' && !Number.isInteger(v));
  t('boolean', (v: unknown) => typeof v === 'boolean');
  t('mapping', (v: unknown) => isPlainObject(v));
  t('sequence', (v: unknown) => Array.isArray(v) || typeof v === 'string');
  t('iterable', (v: unknown) => Array.isArray(v) || typeof v === 'string' || isPlainObject(v));
  t('callable', (v: unknown) => typeof v === 'function');
  t('true', (v: unknown) => v === true);
  t('false', (v: unknown) => v === false);
  t('in', (v: unknown, c: unknown) =>
    Array.isArray(c)
      ? c.includes(v)
      : typeof c === 'string'
        ? c.includes(String(v))
        : isPlainObject(c) && String(v) in c,
  );
  t('eq', (a: unknown, b: unknown) => a === b);
  t('equalto', (a: unknown, b: unknown) => a === b);
  t('ne', (a: unknown, b: unknown) => a !== b);
  return env;
}

function toJson(v: unknown, a: unknown[]): string {
  const { positional, kwargs } = splitArgs(a);
  const sort = kwargs['sort_keys'] === true;
  const indent = (kwargs['indent'] ?? positional[0]) as number | undefined;
  const replacer = sort
    ? (_k: string, x: unknown) =>
        isPlainObject(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x
    : undefined;
  const s = JSON.stringify(v ?? null, replacer, indent);
  // Python's json.dumps separators: ", " and ": " when not indented
  return indent === undefined ? s.replace(/("(?:[^"\\]|\\.)*")|([,:])/g, (m, str) => (str ? m : `${m} `)) : s;
}

export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  if (v instanceof runtime.SafeString) return String(v).length > 0;
  return !!v;
}

function toList(x: unknown): unknown[] {
  if (x === undefined || x === null) return [];
  if (Array.isArray(x)) return [...x];
  if (typeof x === 'string') return [...x];
  if (isPlainObject(x)) return Object.keys(x).filter((k) => k !== '__keywords');
  if (typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(x as Iterable<unknown>)];
  return [x];
}

function lengthOf(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (Array.isArray(v) || typeof v === 'string') return v.length;
  if (v instanceof runtime.SafeString) return String(v).length;
  if (isPlainObject(v)) return Object.keys(v).length;
  return 0;
}

/** Marks a string as already rendered (a macro's output). */
export const safe = (s: string): unknown => new runtime.SafeString(s);

/** nunjucks' error message → the message and its template line (runtime lines count from 0). */
export function templateErrorLine(err: Error): { line?: number; message: string } {
  const m = /\[Line (\d+), Column (\d+)\]\s*([\s\S]*)$/.exec(dbtWording(err.message));
  if (!m)
    return {
      message: dbtWording(err.message)
        .replace(/^\([^)\n]*\)\s*/, '')
        .replace(/^\s*(Error:\s*)?/, '')
        .trim(),
    };
  const rt = /^\s*\w*Error:/.test(m[3]);
  return { line: Number(m[1]) + (rt ? 1 : 0), message: m[3].replace(/^\s*(\w*Error:\s*)?/, '').trim() };
}

/** nunjucks' wording of an undefined call → Jinja's (as dbt prints it). */
function dbtWording(message: string): string {
  return message.replace(
    /Unable to call `([^`]+)`, which is undefined or falsey/g,
    (_m, name: string) =>
      `'${name.split('.').pop()}' is undefined. This can happen when calling a macro that does not exist. Check for typos and/or install package dependencies with "dbt deps".`,
  );
}
