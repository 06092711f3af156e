export { TemplateSet, Template, parseTemplate, type TemplateSetOptions, type ExecuteOptions } from './template.js';
export { TemplateError, type TemplateErrorCode, type TemplateErrorData } from './errors.js';
export {
  GoInt,
  GoFloat,
  GoList,
  GoMap,
  GoFunc,
  GoStruct,
  GoBytes,
  GoCallError,
  type GoValue,
  type GoType,
  type IntKind,
  type FloatKind,
  type GoSignature,
  type ParamType,
  toGoValue,
  fromGoValue,
  typeName,
} from './value.js';
export { sprint, sprintf, sprintln } from './format.js';
export { createSprigFunctions } from './sprig.js';
export {
  createWerfFunctions,
  createFilesObject,
  createWerfData,
  renderWerfConfig,
  MemoryTemplateFiles,
  toYaml,
  fromYaml,
  goTimeString,
  type TemplateFiles,
  type TemplateCommit,
  type WerfFunctionsOptions,
  type RenderWerfConfigOptions,
  type RenderWerfConfigResult,
} from './werf.js';
