/**
 * fast-check arbitraries for random templates (from a small grammar of actions, control
 * structures and functions) and random typed data, for differential testing against Go.
 */
import fc from 'fast-check';
import { GoFloat } from '@strata/gotemplate';

const KEYS = ['a', 'b', 'c', 'd'] as const;

const scalar = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(0, 1, 2, 100, -1),
  fc.double({ min: -1e7, max: 1e7, noNaN: true, noDefaultInfinity: true }).map((d) => new GoFloat(d)),
  fc.constantFrom(new GoFloat(0), new GoFloat(1), new GoFloat(2.5), new GoFloat(1e-7), new GoFloat(123456789)),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('', 'x', 'a b', 'é✓', '"q"', '<&>', 'line\nnext', '1.5', '42', ' pad '),
  fc.boolean(),
  fc.constant(null),
);

/** Random data: a map with keys a–d holding scalars, lists and nested maps. */
export const dataArb: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ value: unknown; map: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, scalar, fc.array(tie('value'), { maxLength: 4 }), tie('map')),
  map: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
})).map;

const fieldPath = fc.oneof(
  fc.constant('.'),
  fc.constantFrom(...KEYS).map((k) => `.${k}`),
  fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...KEYS)).map(([a, b]) => `.${a}.${b}`),
  fc.constantFrom('$', '$.a', '$.b.c'),
);

const literal = fc.oneof(
  fc.integer({ min: -20, max: 20 }).map(String),
  fc.constantFrom('0', '1', '2', '1.5', '0.0', '1e3', "'a'", '0x10', '-3'),
  fc.constantFrom('"x"', '"a,b,c"', '""', '"%v"', '"é"', '`raw`', '"a b"', '"1.2.3"', '"HTTPServer2xx"', '"first_name-x"', '"Bld4Floor"'),
  fc.constantFrom('true', 'false'),
);

/** Functions with a fixed arity, used as `f arg…`. */
const FUNCS: readonly [string, number][] = [
  ['len', 1], ['index', 2], ['print', 2], ['println', 1], ['eq', 2], ['ne', 2], ['lt', 2], ['le', 2], ['gt', 2], ['ge', 2],
  ['and', 2], ['or', 2], ['not', 1], ['html', 1], ['js', 1], ['urlquery', 1],
  ['default', 2], ['empty', 1], ['coalesce', 2], ['ternary', 3], ['toJson', 1], ['toString', 1], ['quote', 1], ['squote', 1],
  ['upper', 1], ['lower', 1], ['title', 1], ['trim', 1], ['trimPrefix', 2], ['trimSuffix', 2], ['contains', 2], ['hasPrefix', 2],
  ['replace', 3], ['repeat', 2], ['indent', 2], ['nindent', 2], ['trunc', 2], ['substr', 3], ['splitList', 2], ['split', 2], ['join', 2],
  ['list', 2], ['dict', 2], ['hasKey', 2], ['get', 2], ['first', 1], ['last', 1], ['rest', 1], ['reverse', 1], ['uniq', 1], ['compact', 1],
  ['append', 2], ['has', 2], ['concat', 2], ['sortAlpha', 1], ['until', 1], ['add', 2], ['sub', 2], ['mul', 2], ['add1', 1], ['max', 2],
  ['int', 1], ['int64', 1], ['float64', 1], ['atoi', 1], ['typeOf', 1], ['kindOf', 1], ['b64enc', 1], ['sha256sum', 1], ['cat', 2],
  ['fromJson', 1], ['toRawJson', 1], ['deepEqual', 2], ['semverCompare', 2], ['regexMatch', 2], ['plural', 3], ['toStrings', 1],
  ['slice', 3], ['index', 3], ['regexFind', 2], ['regexReplaceAll', 3], ['regexSplit', 3], ['trimAll', 2], ['nospace', 1], ['abbrev', 2],
  ['splitn', 3], ['dig', 3], ['pluck', 2], ['merge', 2], ['toPrettyJson', 1], ['b64dec', 1], ['round', 2], ['floor', 1], ['ceil', 1],
  ['addf', 2], ['mulf', 2], ['divf', 2], ['subf', 2], ['seq', 2], ['untilStep', 3], ['chunk', 2], ['without', 2], ['initial', 1],
  ['initials', 1], ['swapcase', 1], ['snakecase', 1], ['kebabcase', 1], ['camelcase', 1], ['wrap', 2], ['hasSuffix', 2],
  ['sha1sum', 1], ['adler32sum', 1], ['base', 1], ['dir', 1], ['ext', 1], ['clean', 1], ['semver', 1], ['min', 2], ['maxf', 2],
  ['div', 2], ['mod', 2], ['biggest', 2], ['toDecimal', 1], ['float64', 1], ['kindIs', 2], ['typeIs', 2], ['get', 2], ['set', 3],
  ['unset', 2], ['pick', 2], ['omit', 2], ['prepend', 2], ['mustFirst', 1], ['last', 1], ['uniq', 1], ['b32enc', 1], ['untitle', 1],
];

/** Functions whose parameters are all interface{} (or raw values): rarely a type error. */
const ANY_FUNCS: readonly [string, number][] = [
  ['default', 2], ['empty', 1], ['toJson', 1], ['toString', 1], ['quote', 1], ['print', 2], ['eq', 2], ['and', 2], ['or', 2],
  ['not', 1], ['coalesce', 2], ['list', 2], ['cat', 2], ['kindOf', 1], ['typeOf', 1], ['add', 2], ['max', 2], ['int', 1], ['len', 1],
  ['html', 1], ['toRawJson', 1], ['toStrings', 1], ['deepEqual', 2],
];

const FORMATS = ['"%08.3f"', '"%+.2e"', '"%#v"', '"%6.2v|"', '"%-8q|"', '"%U"', '"%c"', '"%o %b"', '"%[2]v %[1]v"', '"%v"', '"%d"', '"%s"', '"%q"', '"%5.2f"', '"%T"', '"%x"', '"%v-%v"', '"%-4s|"', '"%+d"', '"%t"', '"%e"', '"%g"', '"%03d"'];

export const templateArb: fc.Arbitrary<string> = fc
  .letrec<{ operand: string; pipeline: string; node: string; list: string }>((tie) => ({
    operand: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fieldPath,
      literal,
      fieldPath,
      tie('pipeline').map((p) => `(${p})`),
    ),
    pipeline: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { arbitrary: fieldPath, weight: 3 },
      { arbitrary: literal, weight: 2 },
      {
        arbitrary: fc
          .tuple(fc.constantFrom(...ANY_FUNCS), tie('operand'), fc.option(tie('operand')))
          .map(([[name, arity], a, b]) => (arity === 1 || b === null ? `${name} ${a}` : `${name} ${a} ${b}`)),
        weight: 3,
      },
      fc
        .constantFrom(...FUNCS)
        .chain(([name, arity]) => fc.array(tie('operand'), { minLength: arity, maxLength: arity }).map((args) => `${name} ${args.join(' ')}`)),
      fc.tuple(fc.constantFrom(...FORMATS), fc.array(tie('operand'), { maxLength: 2 })).map(([f, a]) => `printf ${[f, ...a].join(' ')}`),
      fc
        .tuple(tie('operand'), fc.constantFrom(...FUNCS.filter(([, n]) => n >= 1)))
        .chain(([first, [name, arity]]) => fc.array(tie('operand'), { minLength: arity - 1, maxLength: arity - 1 }).map((a) => `${first} | ${[name, ...a].join(' ')}`)),
    ),
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('x', ' ', '\n', '-', '  y\n'),
      tie('pipeline').map((p) => `{{ ${p} }}`),
      fc.tuple(fc.boolean(), tie('pipeline'), fc.boolean()).map(([l, p, r]) => `{{${l ? '-' : ''} ${p} ${r ? '-' : ''}}}`),
      fc.tuple(tie('pipeline'), tie('list'), fc.option(tie('list'))).map(([p, a, b]) => `{{ if ${p} }}${a}${b === null ? '' : `{{ else }}${b}`}{{ end }}`),
      fc.tuple(tie('pipeline'), tie('list'), tie('pipeline'), tie('list')).map(([p, a, q, b]) => `{{ if ${p} }}${a}{{ else if ${q} }}${b}{{ end }}`),
      fc.tuple(tie('pipeline'), tie('list'), fc.option(tie('list'))).map(([p, a, b]) => `{{ with ${p} }}${a}${b === null ? '' : `{{ else }}${b}`}{{ end }}`),
      fc.tuple(fieldPath, tie('list'), fc.option(tie('list'))).map(([p, a, b]) => `{{ range ${p} }}${a}${b === null ? '' : `{{ else }}${b}`}{{ end }}`),
      fc.tuple(fieldPath, tie('list')).map(([p, a]) => `{{ range $k, $v := ${p} }}{{ $k }}={{ $v }};${a}{{ end }}`),
      fc.tuple(tie('pipeline'), tie('list')).map(([p, a]) => `{{ $x := ${p} }}${a}{{ $x }}`),
      fc.tuple(tie('pipeline'), tie('list')).map(([p, a]) => `{{ define "d" }}${a}{{ end }}{{ template "d" ${p} }}`),
      fc.tuple(tie('pipeline'), tie('list')).map(([p, a]) => `{{ block "blk" ${p} }}${a}{{ end }}`),
      fc.tuple(tie('pipeline'), tie('pipeline')).map(([p, q]) => `{{ $y := ${p} }}{{ $y = ${q} }}{{ $y }}`),
      fc.tuple(fieldPath, tie('pipeline'), fc.constantFrom('break', 'continue')).map(([p, q, kw]) => `{{ range $i, $e := ${p} }}{{ if ${q} }}{{ ${kw} }}{{ end }}{{ $e }}{{ end }}`),
      fc.tuple(fieldPath, tie('list')).map(([p, a]) => `{{ range ${p} }}{{ range $.a }}${a}{{ end }}{{ end }}`),
    ),
    list: fc.array(tie('node'), { maxLength: 3 }).map((ns) => ns.join('')),
  }))
  // A block nested in itself (or a second definition of "d") would recurse without end: Go
  // only stops at depth 100000, after using gigabytes of stack.
  .list.filter((t) => t.length > 0 && t.split('block "blk"').length <= 2 && t.split('define "d"').length <= 2);
