/**
 * Image config of committed stages (pure): SPEC §4.3's CMD/ENTRYPOINT rules, `docker` directives and
 * `imageSpec` turned into the container config the engine's commit endpoint takes.
 *
 * The engine merges a commit's config with the build container's config: fields left empty here are
 * filled from the container, which carries the base image's config (plus the service entrypoint and
 * command). That is why ENTRYPOINT and CMD are always written explicitly, and why an "unset"
 * ENTRYPOINT is written as `[""]` (an empty list would be filled with the service entrypoint; `[""]`
 * survives the merge and the engine treats it as no entrypoint when a container is created).
 */
import path from 'node:path';
import { STAGE_LABELS, type DockerInstructionsStageRequest, type ImageSpecStageRequest } from '@strata/core';
import { DockerError } from './errors.js';

/** `docker` directives of a stapel image (the type `@strata/config` resolves). */
export type DockerInstructions = DockerInstructionsStageRequest['instructions'];
/** `imageSpec` of an image (the type `@strata/config` resolves). */
export type ImageSpec = ImageSpecStageRequest['spec'];

/** The engine's healthcheck config (durations in nanoseconds). */
export interface HealthConfig {
  Test: string[];
  Interval?: number | undefined;
  Timeout?: number | undefined;
  StartPeriod?: number | undefined;
  Retries?: number | undefined;
}

/** The part of an image's config the executor reads from a base image. */
export interface BaseImageConfig {
  Labels?: Record<string, string> | null | undefined;
  Cmd?: string[] | null | undefined;
  Entrypoint?: string | string[] | null | undefined;
  WorkingDir?: string | undefined;
  User?: string | undefined;
  Shell?: string[] | null | undefined;
}

/** The commit endpoint's config body (Docker's `ContainerConfig`, the fields Strata sets). */
export interface CommitConfig {
  Cmd: string[];
  Entrypoint: string[];
  WorkingDir?: string | undefined;
  User?: string | undefined;
  Env?: string[] | undefined;
  Labels?: Record<string, string> | undefined;
  ExposedPorts?: Record<string, Record<string, never>> | undefined;
  Volumes?: Record<string, Record<string, never>> | undefined;
  Healthcheck?: HealthConfig | undefined;
  StopSignal?: string | undefined;
}

/**
 * Stage-identity labels that must not be inherited from a base image that is itself a werf or Strata
 * stage of some other chain (a werf-built base image): the engine cannot remove a label, so one the
 * stage does not set is written empty (an empty parent stage id reads as absent; an empty head commit
 * at least names no other chain's commit). Inherited `werf-git-*-commit` and import checksum labels
 * are left alone: which of them belong to the stage is for the engine to know.
 */
const NOT_INHERITED = [STAGE_LABELS.parentStageId, STAGE_LABELS.headCommit] as const;

/** `labels`, plus an empty value for each identity label the base carries and `labels` does not set. */
export function stageLabelsOver(base: BaseImageConfig, labels: Readonly<Record<string, string>>): Record<string, string> {
  const result = { ...labels };
  for (const key of NOT_INHERITED) {
    if (base.Labels?.[key] !== undefined && result[key] === undefined) result[key] = '';
  }
  return result;
}

/** True when an image has no ENTRYPOINT/CMD of its own (`null`, `[]`, or the reset value `[""]`). */
export function isUnsetCommand(value: string | readonly string[] | null | undefined): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value === '';
  return value.length === 0 || (value.length === 1 && value[0] === '');
}

function asList(value: string | readonly string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/**
 * SPEC §4.3: the stage gets the base image's ENTRYPOINT and CMD back; when the base has none they are
 * reset to `[""]` and `[]`. `WorkingDir` and `User` are restored too (the build container ran with
 * `/` and `0:0`).
 */
export function restoredConfig(base: BaseImageConfig, labels: Readonly<Record<string, string>>): CommitConfig {
  return {
    Entrypoint: isUnsetCommand(base.Entrypoint) ? [''] : asList(base.Entrypoint),
    Cmd: isUnsetCommand(base.Cmd) ? [] : asList(base.Cmd),
    WorkingDir: base.WorkingDir === undefined || base.WorkingDir === '' ? undefined : base.WorkingDir,
    User: base.User === undefined || base.User === '' ? undefined : base.User,
    Labels: stageLabelsOver(base, labels),
  };
}

/** Shell form (a string) runs through the image's shell, as in a Dockerfile; exec form is kept. */
function commandForm(value: string | readonly string[], shell: readonly string[] | null | undefined): string[] {
  if (typeof value !== 'string') return [...value];
  const prefix = shell && shell.length > 0 ? [...shell] : ['/bin/sh', '-c'];
  return [...prefix, value];
}

/** `80` → `80/tcp`; `8000-8002/udp` → three ports. */
export function exposedPorts(specs: readonly string[]): Record<string, Record<string, never>> {
  const ports: Record<string, Record<string, never>> = {};
  for (const spec of specs) {
    for (const word of spec.split(/\s+/).filter(Boolean)) {
      const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
      if (!match) {
        throw new DockerError('DOCKER_INVALID_INSTRUCTION', `EXPOSE ${JSON.stringify(word)} is not a port, port range or port/protocol`, {
          hint: 'Write ports as 80, 80/udp or 8000-8010/tcp.',
          data: { value: word },
        });
      }
      const first = Number(match[1]);
      const last = match[2] === undefined ? first : Number(match[2]);
      const protocol = (match[3] ?? 'tcp').toLowerCase();
      if (last < first || last > 65_535) {
        throw new DockerError('DOCKER_INVALID_INSTRUCTION', `EXPOSE ${JSON.stringify(word)} is not a valid port range`, {
          hint: 'Ports are 0–65535 and a range goes upwards.',
          data: { value: word },
        });
      }
      for (let port = first; port <= last; port += 1) ports[`${port}/${protocol}`] = {};
    }
  }
  return ports;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`30s`, `1m30s`, `500ms`) in nanoseconds; `undefined` when malformed. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS[match[2]!] ?? 0);
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? Math.round(total) : undefined;
}

/**
 * Parses a Dockerfile `HEALTHCHECK` argument as werf's `docker.HEALTHCHECK` takes it:
 * `[--interval=D] [--timeout=D] [--start-period=D] [--retries=N] CMD command…` or `NONE`.
 */
export function parseHealthcheck(text: string): HealthConfig {
  const invalid = (why: string): DockerError =>
    new DockerError('DOCKER_INVALID_INSTRUCTION', `HEALTHCHECK ${JSON.stringify(text)}: ${why}`, {
      hint: 'Write it as in a Dockerfile: [--interval=30s] [--timeout=30s] [--start-period=0s] [--retries=3] CMD <command>, or NONE.',
      data: { value: text },
    });
  let rest = text.trim();
  if (/^NONE$/i.test(rest)) return { Test: ['NONE'] };
  const config: HealthConfig = { Test: [] };
  for (let flag = /^--([a-z-]+)=(\S+)\s+/i.exec(rest); flag; flag = /^--([a-z-]+)=(\S+)\s+/i.exec(rest)) {
    const [whole, name = '', value = ''] = flag;
    rest = rest.slice(whole.length);
    if (name === 'retries') {
      if (!/^\d+$/.test(value)) throw invalid(`--retries=${value} is not a whole number`);
      config.Retries = Number(value);
      continue;
    }
    const ns = parseGoDuration(value);
    if (ns === undefined) throw invalid(`--${name}=${value} is not a duration`);
    if (name === 'interval') config.Interval = ns;
    else if (name === 'timeout') config.Timeout = ns;
    else if (name === 'start-period') config.StartPeriod = ns;
    else throw invalid(`unknown flag --${name}`);
  }
  const cmd = /^CMD\s+([\s\S]+)$/i.exec(rest);
  if (!cmd) throw invalid('expected CMD <command> or NONE');
  const command = cmd[1]!.trim();
  if (command.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(command);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((item) => typeof item === 'string')) {
      config.Test = ['CMD', ...parsed];
      return config;
    }
  }
  config.Test = ['CMD-SHELL', command];
  return config;
}

/**
 * The committed config of a `dockerInstructions` stage on `base` (SPEC §4.3): ENTRYPOINT and CMD come
 * back from the base unless set; `docker.CMD` resets the base ENTRYPOINT; `docker.ENTRYPOINT` alone resets
 * CMD (Docker's rule). ENV, LABEL, EXPOSE and VOLUME add to the base's (the engine merges them).
 */
export function dockerInstructionsConfig(
  base: BaseImageConfig,
  instructions: DockerInstructions,
  labels: Readonly<Record<string, string>>,
): CommitConfig {
  const config = restoredConfig(base, { ...instructions.label, ...labels });
  if (instructions.cmd !== undefined) {
    config.Cmd = commandForm(instructions.cmd, base.Shell);
    config.Entrypoint = instructions.entrypoint === undefined ? [''] : commandForm(instructions.entrypoint, base.Shell);
  } else if (instructions.entrypoint !== undefined) {
    config.Entrypoint = commandForm(instructions.entrypoint, base.Shell);
    config.Cmd = [];
  }
  const env = Object.entries(instructions.env);
  if (env.length > 0) config.Env = env.map(([key, value]) => `${key}=${value}`);
  if (instructions.expose.length > 0) config.ExposedPorts = exposedPorts(instructions.expose);
  if (instructions.volume.length > 0) config.Volumes = Object.fromEntries(instructions.volume.map((v) => [v, {}]));
  if (instructions.workdir !== undefined) config.WorkingDir = path.posix.resolve(base.WorkingDir || '/', instructions.workdir);
  if (instructions.user !== undefined) config.User = instructions.user;
  if (instructions.healthcheck !== undefined) config.Healthcheck = parseHealthcheck(instructions.healthcheck);
  return config;
}

/** Parts of `imageSpec` the commit endpoint cannot express: it only adds to a config, never removes. */
export function unsupportedImageSpecFields(spec: ImageSpec): string[] {
  const c = spec.config;
  const fields: string[] = [];
  if (spec.clearHistory) fields.push('clearHistory');
  if (c.removeLabels.length > 0) fields.push('config.removeLabels');
  if (c.removeEnv.length > 0) fields.push('config.removeEnv');
  if (c.removeVolumes.length > 0) fields.push('config.removeVolumes');
  if (c.clearWerfLabels || c.removeWerfLabels) fields.push('config.clearWerfLabels');
  return fields;
}

const SECOND_NS = 1e9;

/**
 * The committed config of an `imageSpec` stage: the previous stage's config with the spec's values
 * set exactly (no Dockerfile rules: the spec is an OCI config edit). Throws `DOCKER_UNSUPPORTED` for
 * removals (see {@link unsupportedImageSpecFields}).
 */
export function imageSpecConfig(base: BaseImageConfig, spec: ImageSpec, labels: Readonly<Record<string, string>>): CommitConfig {
  const unsupported = unsupportedImageSpecFields(spec);
  if (unsupported.length > 0) {
    throw new DockerError('DOCKER_UNSUPPORTED', `imageSpec ${unsupported.join(', ')} cannot be applied by the Docker executor`, {
      hint: 'The engine can add to an image config but not remove from it; drop these fields or build with a registry-based executor.',
      data: { value: unsupported.join(', ') },
    });
  }
  const c = spec.config;
  const config = restoredConfig(base, { ...c.labels, ...labels });
  if (c.entrypoint !== undefined) config.Entrypoint = [...c.entrypoint];
  if (c.cmd !== undefined) config.Cmd = [...c.cmd];
  if (c.clearEntrypoint) config.Entrypoint = [''];
  if (c.clearCmd) config.Cmd = [];
  const env = Object.entries(c.env);
  if (env.length > 0) config.Env = env.map(([key, value]) => `${key}=${value}`);
  if (c.expose.length > 0) config.ExposedPorts = exposedPorts(c.expose);
  if (c.volumes.length > 0) config.Volumes = Object.fromEntries(c.volumes.map((v) => [v, {}]));
  if (c.user !== undefined) config.User = c.user;
  if (c.workingDir !== undefined) config.WorkingDir = path.posix.resolve(base.WorkingDir || '/', c.workingDir);
  if (c.stopSignal !== undefined) config.StopSignal = c.stopSignal;
  if (c.healthcheck !== undefined) {
    const h = c.healthcheck;
    config.Healthcheck = {
      Test: [...h.test],
      Interval: h.interval === undefined ? undefined : h.interval * SECOND_NS,
      Timeout: h.timeout === undefined ? undefined : h.timeout * SECOND_NS,
      StartPeriod: h.startPeriod === undefined ? undefined : h.startPeriod * SECOND_NS,
      Retries: h.retries,
    };
  }
  return config;
}
