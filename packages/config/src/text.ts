/**
 * The seam between the config file's text and the YAML that is parsed. Today it strips a BOM and
 * rejects Go templates; the Go-template issue replaces {@link renderConfigText}'s template branch with
 * real rendering (through `@strata/gotemplate`) and keeps the same result shape.
 */
import type { ConfigProblem } from './problems.js';

export type RenderResult = { ok: true; text: string } | { ok: false; problems: ConfigProblem[] };

/** How many template actions are reported individually before the rest are summarised. */
const MAX_REPORTED_TEMPLATES = 20;

/**
 * Turns config file text into the YAML text to parse. Pure. Positions in returned problems refer to
 * the original text; the returned text has the same lines and columns as the original (a BOM is not
 * a column).
 */
export function renderConfigText(text: string, file: string): RenderResult {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const problems: ConfigProblem[] = [];
  const lines = body.split('\n');
  let total = 0;
  lines.forEach((line, index) => {
    const column = line.indexOf('{{');
    if (column < 0) return;
    total++;
    if (total > MAX_REPORTED_TEMPLATES) return;
    problems.push({
      code: 'UNSUPPORTED_GO_TEMPLATE',
      severity: 'error',
      message: 'Go templates ({{ … }}) in werf.yaml are not supported yet',
      file,
      line: index + 1,
      column: column + 1,
      path: `line ${index + 1}`,
      pathSegments: [],
      hint: 'Render the template yourself (e.g. with `werf config render`) and use the result, or wait for template support.',
    });
  });
  if (total > MAX_REPORTED_TEMPLATES) {
    const last = problems[problems.length - 1];
    if (last) last.message += ` (${total - MAX_REPORTED_TEMPLATES} more lines with templates not listed)`;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, text: body };
}
