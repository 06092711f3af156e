import { isScalar } from 'yaml';
import type { ImageSpecHealthcheck, ResolvedImageSpec, ResolvedImageSpecConfig } from './types.js';
import { readBoolean, readInteger, readMap, readString, readStringList, readStringMap, type DocContext, type Entry } from './walk.js';

const GLOBAL_CONFIG_KEYS = ['labels', 'removeLabels', 'removeWerfLabels', 'clearWerfLabels', 'keepEssentialWerfLabels'] as const;
const IMAGE_CONFIG_KEYS = [
  ...GLOBAL_CONFIG_KEYS,
  'env',
  'removeEnv',
  'removeVolumes',
  'volumes',
  'expose',
  'cmd',
  'entrypoint',
  'user',
  'workingDir',
  'stopSignal',
  'healthcheck',
  'clearCmd',
  'clearEntrypoint',
] as const;
const HEALTHCHECK_KEYS = ['test', 'interval', 'timeout', 'startPeriod', 'retries'] as const;

/**
 * Reads `imageSpec` (image level) or `build.imageSpec` (`global`: werf allows only author,
 * clearHistory and the label directives there).
 */
export function readImageSpec(dc: DocContext, entry: Entry, global: boolean): ResolvedImageSpec | undefined {
  const entries = readMap(dc, entry.value, entry.segments, { keys: ['author', 'clearHistory', 'config'] });
  if (!entries) return undefined;
  const spec: ResolvedImageSpec = {
    clearHistory: readBoolean(dc, entries.get('clearHistory')) ?? false,
    config: emptyConfig(),
  };
  const author = readString(dc, entries.get('author'));
  if (author !== undefined) spec.author = author;
  const configEntry = entries.get('config');
  if (configEntry?.value !== undefined && !(isScalar(configEntry.value) && configEntry.value.value === null)) {
    const config = readMap(dc, configEntry.value, configEntry.segments, {
      keys: global ? GLOBAL_CONFIG_KEYS : IMAGE_CONFIG_KEYS,
      unknownHint: (key) =>
        global && (IMAGE_CONFIG_KEYS as readonly string[]).includes(key)
          ? `"${key}" is only allowed in an image's own imageSpec, not in build.imageSpec`
          : undefined,
    });
    if (config) fillConfig(dc, config, spec.config);
  }
  return spec;
}

function emptyConfig(): ResolvedImageSpecConfig {
  return {
    env: {},
    labels: {},
    removeLabels: [],
    removeEnv: [],
    removeVolumes: [],
    expose: [],
    volumes: [],
    clearCmd: false,
    clearEntrypoint: false,
    clearWerfLabels: false,
    removeWerfLabels: false,
    keepEssentialWerfLabels: false,
  };
}

function fillConfig(dc: DocContext, config: Map<string, Entry>, out: ResolvedImageSpecConfig): void {
  const list = (key: string): string[] => readStringList(dc, config.get(key), { singleAllowed: false }).values;
  out.env = readStringMap(dc, config.get('env'));
  out.labels = readStringMap(dc, config.get('labels'));
  out.removeLabels = list('removeLabels');
  out.removeEnv = list('removeEnv');
  out.removeVolumes = list('removeVolumes');
  out.expose = list('expose');
  out.volumes = list('volumes');
  for (const key of ['cmd', 'entrypoint'] as const) {
    const entry = config.get(key);
    if (entry !== undefined) out[key] = readStringList(dc, entry, { singleAllowed: false }).values;
  }
  for (const key of ['user', 'workingDir', 'stopSignal'] as const) {
    const value = readString(dc, config.get(key));
    if (value !== undefined) out[key] = value;
  }
  for (const key of ['clearCmd', 'clearEntrypoint', 'clearWerfLabels', 'removeWerfLabels', 'keepEssentialWerfLabels'] as const) {
    out[key] = readBoolean(dc, config.get(key)) ?? false;
  }
  const health = config.get('healthcheck');
  if (health?.value !== undefined && !(isScalar(health.value) && health.value.value === null)) {
    const entries = readMap(dc, health.value, health.segments, { keys: HEALTHCHECK_KEYS });
    if (entries) {
      const check: ImageSpecHealthcheck = { test: readStringList(dc, entries.get('test'), { singleAllowed: false }).values };
      for (const key of ['interval', 'timeout', 'startPeriod', 'retries'] as const) {
        const value = readInteger(dc, entries.get(key), 0);
        if (value !== undefined) check[key] = value;
      }
      out.healthcheck = check;
    }
  }
}
