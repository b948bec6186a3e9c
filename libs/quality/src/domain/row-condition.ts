/**
 * `row_condition`: a restricted filter language, parsed (never pasted into SQL).
 * Grammar: expr := term (('&' | '|' | 'and' | 'or') term)* ; term := '(' expr ')' | 'not' term | cmp
 * cmp := column op literal ; column := name | col("name") ; op := == != > >= < <=
 * literal := number | "string" | 'string' | true | false | null.
 * Compiles to SQL with quoted identifiers and $n parameters.
 */
export class RowConditionError extends Error {}

type Tok = { k: 'name' | 'str' | 'num' | 'op' | 'lp' | 'rp' | 'and' | 'or' | 'not'; v: string };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ k: c === '(' ? 'lp' : 'rp', v: c });
      i++;
      continue;
    }
    if (c === '&' || c === '|') {
      out.push({ k: c === '&' ? 'and' : 'or', v: c });
      i += src[i + 1] === c ? 2 : 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '>=', '<='].includes(two)) {
      out.push({ k: 'op', v: two });
      i += 2;
      continue;
    }
    if (c === '>' || c === '<' || c === '=') {
      out.push({ k: 'op', v: c === '=' ? '==' : c });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw new RowConditionError(`unterminated string in row_condition: ${src}`);
      out.push({ k: 'str', v: s });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ k: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      const w = name[0];
      const lw = w.toLowerCase();
      out.push(lw === 'and' || lw === 'or' || lw === 'not' ? { k: lw as 'and', v: w } : { k: 'name', v: w });
      i += w.length;
      continue;
    }
    throw new RowConditionError(`unexpected ${JSON.stringify(c)} in row_condition: ${src}`);
  }
  return out;
}

const NUMERIC_TYPES = /^(smallint|integer|bigint|int[248]?|numeric|decimal|real|double precision|float[48]?)\b/i;
const BOOLEAN_TYPES = /^(boolean|bool)$/i;

/**
 * Compiles a row_condition; `params` receives the literals, `quote` quotes a (checked) column name.
 * `columns` maps each column to its PostgreSQL type (or is a set of names, untyped). A literal is
 * checked against its column's type here, when the suite is saved, so a condition cannot make every
 * later scan fail: a number must be finite and compares only with a numeric column (as `numeric`,
 * which no integer column overflows), a boolean only with a boolean column; a string compares with
 * the column's text form.
 */
export function compileRowCondition(
  src: string,
  columns: ReadonlySet<string> | ReadonlyMap<string, string>,
  params: unknown[],
  quote: (c: string) => string,
): string {
  const typeOf = (c: string): string | undefined => (columns instanceof Map ? columns.get(c) : undefined);
  const toks = lex(src);
  let p = 0;
  const peek = () => toks[p];
  const take = (k?: Tok['k']) => {
    const t = toks[p++];
    if (!t || (k && t.k !== k)) throw new RowConditionError(`row_condition: expected ${k ?? 'more'} in ${src}`);
    return t;
  };
  const column = (): { sql: string; name: string } => {
    const t = take('name');
    let name = t.v;
    if (name === 'col' && peek()?.k === 'lp') {
      take('lp');
      name = take('str').v;
      take('rp');
    }
    if (!columns.has(name))
      throw new RowConditionError(`row_condition names an unknown column ${JSON.stringify(name)}`);
    return { sql: quote(name), name };
  };
  const literal = (col: string): string => {
    const t = take();
    const type = typeOf(col);
    if (t.k === 'num') {
      const n = Number(t.v);
      if (!Number.isFinite(n)) throw new RowConditionError(`row_condition: the literal ${t.v} is not a finite number`);
      if (type !== undefined && !NUMERIC_TYPES.test(type))
        throw new RowConditionError(
          `row_condition: the literal ${t.v} is a number, but column ${JSON.stringify(col)} is ${type}; quote it ("${t.v}") to compare as text`,
        );
      params.push(t.v);
      return `$${params.length}::numeric`;
    }
    if (t.k === 'str') {
      params.push(t.v);
      return `$${params.length}`;
    }
    if (t.k === 'name' && /^(true|false)$/i.test(t.v)) {
      if (type !== undefined && !BOOLEAN_TYPES.test(type))
        throw new RowConditionError(
          `row_condition: the literal ${t.v} is a boolean, but column ${JSON.stringify(col)} is ${type}`,
        );
      return t.v.toLowerCase();
    }
    if (t.k === 'name' && /^(null|none)$/i.test(t.v)) return 'NULL';
    throw new RowConditionError(`row_condition: expected a literal, got ${JSON.stringify(t.v)}`);
  };
  const cmp = (): string => {
    const col = column();
    const left = col.sql;
    const op = take('op').v;
    const right = literal(col.name);
    if (right === 'NULL') {
      if (op === '==') return `${left} IS NULL`;
      if (op === '!=') return `${left} IS NOT NULL`;
      throw new RowConditionError('row_condition: null compares only with == or !=');
    }
    // a string literal compares with the column's text form; a number or boolean compares natively
    const sqlOp = op === '==' ? '=' : op === '!=' ? '<>' : op;
    const isString = right.startsWith('$') && typeof params[Number(right.slice(1)) - 1] === 'string';
    return isString ? `${left}::text ${sqlOp} ${right}` : `${left} ${sqlOp} ${right}`;
  };
  const term = (): string => {
    const t = peek();
    if (!t) throw new RowConditionError(`row_condition ends early: ${src}`);
    if (t.k === 'lp') {
      take('lp');
      const e = expr();
      take('rp');
      return `(${e})`;
    }
    if (t.k === 'not') {
      take('not');
      return `NOT (${term()})`;
    }
    return cmp();
  };
  const expr = (): string => {
    let e = term();
    while (peek() && (peek().k === 'and' || peek().k === 'or')) {
      const op = take().k === 'and' ? 'AND' : 'OR';
      e = `${e} ${op} ${term()}`;
    }
    return e;
  };
  const sql = expr();
  if (p !== toks.length)
    throw new RowConditionError(`row_condition: unexpected ${JSON.stringify(toks[p].v)} in ${src}`);
  return `(${sql})`;
}
