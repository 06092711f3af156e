/** Engine behaviour that the Go 1.19 oracle cannot check, the value mapping, errors and the public API. */
import { describe, expect, it } from 'vitest';
import * as api from '@strata/gotemplate';
import { GoFloat, GoFunc, GoInt, TemplateError, TemplateSet, createSprigFunctions, parseTemplate, toGoValue, typeName } from '@strata/gotemplate';

const render = (text: string, data: unknown = {}): string => {
  const set = new TemplateSet({ funcs: createSprigFunctions() });
  set.parse('t', text);
  return set.execute('t', data);
};

describe('newer Go behaviour (werf is built with Go ≥ 1.22)', () => {
  it('ranges over an integer', () => {
    expect(render('{{ range 3 }}{{ . }}{{ end }}|{{ range $i := .n }}{{ $i }}{{ end }}|{{ range 0 }}x{{ else }}none{{ end }}', { n: 2 })).toBe('012|01|none');
  });
  it('supports {{ else with }}', () => {
    expect(render('{{ with .a }}a{{ else with .b }}b={{ . }}{{ else }}none{{ end }}', { b: 'B' })).toBe('b=B');
  });
});

describe('value mapping', () => {
  it('maps safe integers to int, other numbers and GoFloat to float64, bigint to int64', () => {
    expect(typeName(toGoValue(1))).toBe('int');
    expect(typeName(toGoValue(1.5))).toBe('float64');
    expect(typeName(toGoValue(new GoFloat(1)))).toBe('float64');
    expect(typeName(toGoValue(2n))).toBe('int64');
    expect(typeName(toGoValue([1]))).toBe('[]interface {}');
    expect(typeName(toGoValue({ a: 1 }))).toBe('map[string]interface {}');
    expect(typeName(toGoValue(null))).toBe('<nil>');
    expect(render('{{ .i }} {{ .f }} {{ eq .i 1 }} {{ printf "%T %T" .i .f }}', { i: 1, f: new GoFloat(1) })).toBe('1 1 true int float64');
  });
  it('calls JS functions in data with `call`', () => {
    expect(render('{{ call .fn 2 3 }}', { fn: (a: number, b: number) => a * b })).toBe('6');
  });
  it('accepts custom Go functions with typed parameters', () => {
    const twice = new GoFunc('twice', { params: ['int'] }, (n) => new GoInt((n as GoInt).value * 2));
    const t = parseTemplate('t', '{{ twice 21 }}', { funcs: { twice } });
    expect(t.execute({})).toBe('42');
    expect(() => parseTemplate('t', '{{ twice "x" }}', { funcs: { twice } }).execute({})).toThrow(/expected integer; found "x"/);
  });
});

describe('errors', () => {
  it('locates parse errors (1-based column) and keeps Go message', () => {
    try {
      parseTemplate('file.tmpl', 'ok\n  {{ .a | | }}');
      throw new Error('expected a parse error');
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      const te = e as TemplateError;
      expect(te.code).toBe('TEMPLATE_PARSE');
      expect(te.message).toBe('template: file.tmpl:2: unexpected "|" in command');
      expect(te.file).toBe('file.tmpl');
      expect(te.line).toBe(2);
    }
  });
  it('locates execution errors with Go context', () => {
    try {
      parseTemplate('t', 'a\nb {{ .x.y.z }}').execute({ x: { y: 5 } });
      throw new Error('expected an exec error');
    } catch (e) {
      const te = e as TemplateError;
      expect(te.code).toBe('TEMPLATE_EXEC');
      expect(te.message).toBe('template: t:2:7: executing "t" at <.x.y.z>: can\'t evaluate field z in type interface {}');
      expect([te.line, te.column]).toEqual([2, 8]);
    }
  });
  it('limits template recursion', () => {
    const t = parseTemplate('t', '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}', { maxDepth: 50 });
    expect(() => t.execute({})).toThrow(/exceeded maximum template depth \(50\)/);
  });
  it('limits include recursion', () => {
    const result = api.renderWerfConfig({
      mainFile: { path: 'werf.yaml', text: '{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}' },
      files: new api.MemoryTemplateFiles({}),
      commit: { hash: 'h', date: new Date(0) },
    });
    expect('error' in result && result.error.message).toMatch(/exceeded maximum template depth \(100\)$/);
  });
  it('stops a long range when the signal aborts', () => {
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    const t = parseTemplate('t', '{{ range .l }}{{ . }}{{ end }}');
    expect(() => t.execute({ l: [1, 2] }, { signal: controller.signal })).toThrow('stop now');
  });
  it('keeps a non-empty definition when an empty one comes later, and replaces otherwise', () => {
    const set = new TemplateSet();
    set.parse('a', '{{ define "x" }}first{{ end }}');
    set.parse('b', '{{ define "x" }}  {{ end }}');
    set.parse('main', '{{ template "x" }}');
    expect(set.execute('main', {})).toBe('first');
    set.parse('c', '{{ define "x" }}second{{ end }}');
    expect(set.execute('main', {})).toBe('second');
  });
});

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'GoBytes', 'GoCallError', 'GoFloat', 'GoFunc', 'GoInt', 'GoList', 'GoMap', 'GoStruct', 'MemoryTemplateFiles', 'Template',
        'TemplateError', 'TemplateSet', 'createFilesObject', 'createSprigFunctions', 'createWerfData', 'createWerfFunctions', 'fromGoValue',
        'fromYaml', 'goTimeString', 'parseTemplate', 'renderWerfConfig', 'sprint', 'sprintf', 'sprintln', 'toGoValue', 'toYaml', 'typeName',
      ].sort(),
    );
  });
});
