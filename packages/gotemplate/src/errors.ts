import { StrataError, type StrataErrorOptions } from '@strata/errors';

export type TemplateErrorCode =
  /** The template text does not parse (Go's parse errors). */
  | 'TEMPLATE_PARSE'
  /** Executing the template failed (a function failed, a field could not be evaluated, …). */
  | 'TEMPLATE_EXEC'
  /** A template function was given a name or path it is not allowed to read (giterminism). */
  | 'TEMPLATE_FORBIDDEN';

export interface TemplateErrorData {
  /** The template file the failure is in (for nested `include`s: the innermost one). */
  readonly file: string;
  /** 1-based line in `file`. */
  readonly line: number;
  /** 1-based column (in characters) in `file`; 0 when Go reports no column (parse errors). */
  readonly column: number;
  /** Go's template name that was executing, when executing. */
  readonly template?: string | undefined;
}

/**
 * A template failure. `message` has the substance of Go's message
 * (`template: NAME:LINE:COL: executing "NAME" at <.Foo>: …`, where Go's COL is a 0-based byte
 * offset); `file`, `line` and `column` locate it for editors (1-based).
 */
export class TemplateError extends StrataError<TemplateErrorCode, TemplateErrorData> {
  readonly file: string;
  readonly line: number;
  readonly column: number;

  constructor(code: TemplateErrorCode, message: string, data: TemplateErrorData, options: Omit<StrataErrorOptions<TemplateErrorData>, 'data'> = {}) {
    super(code, message, { ...options, data });
    this.file = data.file;
    this.line = data.line;
    this.column = data.column;
  }
}
