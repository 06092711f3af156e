/** `explain`: the labelled inputs of a digest and the first difference between two stages. */
export {
  DIGEST_INPUTS_LABEL,
  compareInputs,
  decodeInputsRecord,
  encodeInputsRecord,
  findRecordedInputs,
  formatDifference,
  formatInputs,
  inputsRecord,
  type FormatInputsOptions,
  type InputDifference,
  type InputRecordNode,
  type InputsRecord,
} from './explain.js';
