import { jinjaEnvironment, withJinja } from './jinja';

const env = jinjaEnvironment();
const render = (src: string, ctx: Record<string, unknown> = {}) => withJinja(() => env.renderString(src, ctx));

describe('Jinja as dbt renders it', () => {
  it('has True/False/None and prints them as Python does', () => {
    expect(render('{{ True }} {{ False }} {{ None }} {{ x is none }} {{ none is none }}', { x: null })).toBe(
      'True False None True True',
    );
    expect(render("{{ [1, 'a', None] }} {{ {'k': True} }}")).toBe("[1, 'a', None] {'k': True}");
  });

  it('accepts trailing commas in calls and literals', () => {
    expect(render("{% macro m(a, b) %}{{ a }}{{ b }}{% endmacro %}{{ m(1, 2,) }}{{ [1, 2,] }}{{ {'a': 1,} }}")).toBe(
      "12[1, 2]{'a': 1}",
    );
  });

  it('has {% do %}, set blocks, namespace and set ns.attr', () => {
    expect(
      render(
        '{% set l = [] %}{% do l.append(1) %}{% do l.extend([2, 3]) %}{{ l }}' +
          '{% set b %}x {{ 1 + 1 }}{% endset %}[{{ b }}]' +
          '{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}',
      ),
    ).toBe('[1, 2, 3][x 2]6');
  });

  it('returns values from macros with return(), keeping the caller scope intact', () => {
    expect(
      render(
        '{% macro inner(x) %}ignored{{ return([x, x * 2]) }}{% endmacro %}' +
          '{% macro outer(y, z=3) %}{% set r = inner(y) %}{{ return(r[1] + z) }}{% endmacro %}' +
          '{{ outer(5) }} {{ outer(5, z=10) }} {{ inner(2)[0] }}',
      ),
    ).toBe('13 20 2');
  });

  it('has macros with defaults, kwargs, caller() and call blocks, and loop', () => {
    expect(
      render(
        '{% macro wrap(tag="b") %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}' +
          '{% call wrap(tag="i") %}in{% endcall %}{% call wrap() %}x{% endcall %}' +
          '{% for x in ["a","b","c"] %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}',
      ),
    ).toBe('<i>in</i><b>x</b>1a,2b,3c');
  });

  it('has Python methods on strings, lists and dicts, and % formatting', () => {
    expect(
      render(
        '{{ "a,b".split(",") }} {{ " x ".strip() }} {{ "ab".upper() }} {{ "Ab".startswith("A") }} ' +
          '{{ "a-a".replace("-", "_") }} {{ "{}+{}".format(1, 2) }} {{ "%s=%d" % ("x", 3) }} ' +
          '{% set d = {"a": 1} %}{{ d.items() | list }} {{ d.get("z", 0) }} {{ d.keys() }}' +
          '{% do d.update({"b": 2}) %} {{ d }} {{ "x_y".split("_")[-1] }}',
      ),
    ).toBe("['a', 'b'] x AB True a_a 1+2 x=3 [['a', 1]] 0 ['a'] {'a': 1, 'b': 2} y");
  });

  it('has tojson, fromjson, fromyaml and the filters dbt projects use', () => {
    expect(render('{{ tojson({"a": [1, 2]}) }} {{ fromjson(\'{"x": 1}\').x }} {{ fromyaml("a: [1]").a }}')).toBe(
      '{"a": [1, 2]} 1 [1]',
    );
    expect(
      render('{{ ["a","b","a"] | unique | list }} {{ [{"n": 1}] | map(attribute="n") | list }} {{ "yes" | as_bool }}'),
    ).toBe("['a', 'b'] [1] True");
  });

  it('refuses members that reach JavaScript internals', () => {
    expect(() => render('{{ range.constructor("return 1")() }}')).toThrow(/may not access/);
  });
});
