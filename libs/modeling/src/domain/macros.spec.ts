import { weirMacros } from './macros';

describe('weir macros', () => {
  it('surrogate_key hashes the columns, NULL-safe, and refuses anything but column names', () => {
    expect(weirMacros.surrogate_key(['a', 'o.b'])).toBe(
      "md5(concat_ws('|', coalesce(a::text, '_weir_null_'), coalesce(o.b::text, '_weir_null_')))",
    );
    expect(() => weirMacros.surrogate_key(['a; drop table x'])).toThrow(/list of column names/);
    expect(() => weirMacros.surrogate_key([])).toThrow();
  });
  it('dim_date generates a calendar between two dates, with a holiday slot', () => {
    const sql = weirMacros.dim_date('2026-01-01', '2026-12-31');
    expect(sql).toContain("generate_series(date '2026-01-01', date '2026-12-31', interval '1 day')");
    expect(sql).toContain('false as is_holiday');
    expect(() => weirMacros.dim_date("2026-01-01'); drop table x; --", '2026-12-31')).toThrow(/two dates/);
  });
});
