/** Renders a case here the way the oracle renders it in Go. */
import { TemplateError, TemplateSet, createWerfFunctions, toGoValue } from '@strata/gotemplate';

export type Outcome = { ok: true; out: string } | { ok: false; err: string };

/** Renders like the oracle does: sprig + include/tpl/required/fromYaml, template named "t". */
export function renderHere(template: string, data: unknown, definitions: { name: string; text: string }[] = []): Outcome {
  try {
    const set = new TemplateSet({ name: 't' });
    set.addFuncs(createWerfFunctions(set, {}));
    for (const d of definitions) set.parse(d.name, d.text);
    set.parse('t', template);
    return { ok: true, out: set.execute('t', toGoValue(data)) };
  } catch (e) {
    if (e instanceof TemplateError) return { ok: false, err: e.message };
    throw e;
  }
}


/**
 * Go 1.19 (Debian's oracle) predates `range` over integers (Go 1.22, which werf uses); a
 * template failing only for that reason is not compared.
 */
export function isNewerGoOnly(goError: string): boolean {
  return /range can't iterate over -?\d+$/.test(goError);
}
