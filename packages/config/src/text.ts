/**
 * The seam between the config file's text and the YAML that is parsed: a BOM is stripped, and a
 * templated file (one with `{{`) is rendered with werf's Go-template functions and data.
 */
import type { ConfigProblem } from './problems.js';
import { isTemplated, renderTemplate, type ConfigTemplateOptions, type RenderedTemplate } from './template.js';

export type RenderResult = { ok: true; text: string } | { ok: false; problems: ConfigProblem[] };

/**
 * Turns config file text into the YAML text to parse. Pure. Plain text comes back unchanged (minus
 * a BOM), with the same lines and columns. Text with Go template actions is rendered with
 * `template` (files, partials, env, commit; every part defaults to empty); a template failure is a
 * `TEMPLATE_ERROR` or `TEMPLATE_ENV_FORBIDDEN` problem located in the template file.
 */
export function renderConfigText(text: string, file: string, template: ConfigTemplateOptions = {}): RenderResult {
  const result = renderConfigTextWithMap(text, file, template);
  return result.ok ? { ok: true, text: result.text } : result;
}

/** {@link renderConfigText}, plus the rendered-to-template position map when it rendered a template. */
export function renderConfigTextWithMap(
  text: string,
  file: string,
  template: ConfigTemplateOptions,
): { ok: true; text: string; rendered?: RenderedTemplate } | { ok: false; problems: ConfigProblem[] } {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (!isTemplated(body)) return { ok: true, text: body };
  const result = renderTemplate(body, file, template);
  if (!result.ok) return result;
  return { ok: true, text: result.rendered.text, rendered: result.rendered };
}
