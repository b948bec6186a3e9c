import type { Unparseable } from './record.types';

/**
 * An incremental RFC 4180 CSV parser tuned for the common case: a record without the quote
 * character is cut with indexOf('\n') and String#split; only records holding a quote take the
 * character-level path (quoted fields, doubled quotes or an escape character, embedded delimiters
 * and newlines). CRLF and LF line ends; blank lines are not records. Feed text with {@link push};
 * each call returns the records completed so far and keeps the incomplete tail.
 */
export class CsvParser {
  private rest = '';
  private readonly d: string;
  private readonly q: string;
  private readonly e: string;

  constructor(opts: { delimiter?: string; quote?: string; escape?: string } = {}) {
    this.d = opts.delimiter ?? ',';
    this.q = opts.quote ?? '"';
    this.e = opts.escape ?? this.q;
  }

  /** Parses `chunk` (after any kept tail). With `final`, the tail is parsed to the end. */
  push(chunk: string, final = false): (string[] | Unparseable)[] {
    const s = this.rest.length ? this.rest + chunk : chunk;
    const out: (string[] | Unparseable)[] = [];
    const { d, q } = this;
    const n = s.length;
    let i = 0;
    let nextQuote = s.indexOf(q);
    if (nextQuote === -1) nextQuote = n;
    while (i < n) {
      let nl = s.indexOf('\n', i);
      if (nl === -1) {
        if (!final) break;
        nl = n;
      }
      if (nextQuote < i) {
        nextQuote = s.indexOf(q, i);
        if (nextQuote === -1) nextQuote = n;
      }
      if (nextQuote >= nl) {
        // fast path: no quote in this record
        let end = nl;
        if (end > i && s.charCodeAt(end - 1) === 13) end--;
        if (end > i) out.push(s.slice(i, end).split(d));
        i = nl + 1;
        continue;
      }
      const r = this.slowRecord(s, i, final);
      if (r === undefined) break; // incomplete quoted field: wait for more text
      if (r.record) out.push(r.record);
      i = r.next;
    }
    this.rest = i < n ? s.slice(i) : '';
    return out;
  }

  /** Parses one record holding the quote character; undefined when it runs past the text (not final). */
  private slowRecord(
    s: string,
    start: number,
    final: boolean,
  ): { record?: string[] | Unparseable; next: number } | undefined {
    const { d, q, e } = this;
    const n = s.length;
    const fields: string[] = [];
    let i = start;
    while (true) {
      if (i < n && s[i] === q) {
        // quoted field
        let value = '';
        let j = i + 1;
        while (true) {
          const k = e === q ? s.indexOf(q, j) : nextOf(s, q, e, j);
          if (k === -1) {
            if (!final) return undefined;
            const lineEnd = s.indexOf('\n', start);
            return { record: bad(s.slice(start, n), 'unterminated quoted field'), next: lineEnd === -1 ? n : n };
          }
          if (s[k] === e && e !== q) {
            // escape character: take the next character literally
            if (k + 1 >= n) {
              if (!final) return undefined;
              return { record: bad(s.slice(start, n), 'escape character at end of input'), next: n };
            }
            value += s.slice(j, k) + s[k + 1];
            j = k + 2;
            continue;
          }
          if (e === q && k + 1 < n && s[k + 1] === q) {
            value += s.slice(j, k + 1);
            j = k + 2;
            continue;
          }
          if (e === q && k + 1 >= n && !final) return undefined; // a doubled quote may be split across chunks
          value += s.slice(j, k);
          i = k + 1;
          break;
        }
        fields.push(value);
        if (i >= n) {
          if (!final) return undefined;
          return { record: fields, next: n };
        }
        const c = s[i];
        if (c === d) {
          i++;
          continue;
        }
        if (c === '\n') return { record: fields, next: i + 1 };
        if (c === '\r') {
          if (i + 1 >= n) {
            if (!final) return undefined;
            return { record: fields, next: n };
          }
          if (s[i + 1] === '\n') return { record: fields, next: i + 2 };
        }
        // text after a closing quote: the record is malformed; skip to the end of its line
        const nl = s.indexOf('\n', i);
        if (nl === -1 && !final) return undefined;
        const end = nl === -1 ? n : nl;
        return {
          record: bad(s.slice(start, end), `unexpected ${JSON.stringify(c)} after a closing quote`),
          next: end + 1,
        };
      }
      // unquoted field: up to the next delimiter or line end (quotes inside are literal)
      const nd = s.indexOf(d, i);
      let nl = s.indexOf('\n', i);
      if (nl === -1) {
        if (!final) return undefined;
        nl = n;
      }
      if (nd !== -1 && nd < nl) {
        fields.push(s.slice(i, nd));
        i = nd + 1;
        continue;
      }
      let end = nl;
      if (end > i && s.charCodeAt(end - 1) === 13) end--;
      fields.push(s.slice(i, end));
      return { record: fields, next: nl + 1 };
    }
  }
}

function nextOf(s: string, a: string, b: string, from: number): number {
  const x = s.indexOf(a, from);
  const y = s.indexOf(b, from);
  if (x === -1) return y;
  if (y === -1) return x;
  return Math.min(x, y);
}

function bad(text: string, message: string): Unparseable {
  return { unparseable: true, text: text.slice(0, 100_000), message };
}
