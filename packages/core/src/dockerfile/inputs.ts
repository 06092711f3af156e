/**
 * The `dockerfile` stage's labelled inputs, from an analysed Dockerfile and the checksums of its
 * `COPY`/`ADD` sources. Pure.
 */
import { InternalError } from '@strata/errors';
import { digestInput, optionalInput, type DigestInput } from '../digest/inputs.js';
import type { AnalyzedDockerfile, AnalyzedStage } from './analyze.js';

/** Key of one `COPY`/`ADD` in {@link DockerfileInputsOptions.sourceChecksums}: `<stage>:<instruction>`. */
export function sourceKey(stage: number, instruction: number): string {
  return `${stage}:${instruction}`;
}

export interface DockerfileInputsOptions {
  /** Per `COPY`/`ADD` with context sources (see `contextSources`), the sources checksum. */
  sourceChecksums: Readonly<Record<string, string>>;
  /** `addHost` entries (werf puts them first in every Dockerfile stage's dependencies). @default [] */
  addHost?: readonly string[] | undefined;
  /** The image's effective `cacheVersion`, appended last when set. */
  cacheVersion?: string | undefined;
}

function stageLabel(stage: AnalyzedStage): string {
  return stage.name === undefined ? `stage #${stage.index}` : `stage ${stage.name}`;
}

/**
 * werf's dependency list of the target stage: its own inputs (addHost…, base, instructions), then for
 * each stage it builds on or copies from, that stage's full list (which already includes what it uses).
 */
export function dockerfileStageInputs(dockerfile: AnalyzedDockerfile, options: DockerfileInputsOptions): DigestInput[] {
  const own = (stage: AnalyzedStage): DigestInput[] => {
    const label = stageLabel(stage);
    const inputs = (options.addHost ?? []).map((host, index) => digestInput(`${label} addHost[${index}]`, host));
    inputs.push(digestInput(`${label} base image`, stage.base));
    stage.instructions.forEach((instruction, index) => {
      inputs.push(digestInput(`${label} instruction[${index}] ${instruction.keyword}`, instruction.text));
      if (instruction.kind === 'copy' && instruction.sources !== undefined) {
        const checksum = options.sourceChecksums[sourceKey(stage.index, index)];
        if (checksum === undefined) throw new InternalError(`no sources checksum for ${label} instruction[${index}]`);
        inputs.push(digestInput(`${label} instruction[${index}] ${instruction.keyword} sources`, checksum));
      }
    });
    return inputs;
  };
  const full = new Map<number, DigestInput[]>();
  const inputsOf = (index: number): DigestInput[] => {
    const known = full.get(index);
    if (known) return known;
    const stage = dockerfile.stages[index];
    if (!stage) throw new InternalError(`Dockerfile stage #${index} does not exist`);
    // `uses` only names earlier stages, so this recursion terminates.
    const inputs = [...own(stage), ...stage.uses.flatMap(inputsOf)];
    full.set(index, inputs);
    return inputs;
  };
  return [...inputsOf(dockerfile.targetIndex), ...optionalInput('image cacheVersion', options.cacheVersion)];
}
