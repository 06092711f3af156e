/**
 * The build planner (SPEC §4.4): images form a dependency graph; the plan groups them into sets of
 * mutually independent images that depend only on earlier sets. Pure data in, data out.
 */
import type { ResolvedConfig, ResolvedImage } from '@strata/config';
import { CoreError } from './errors.js';

/** One image of the graph. */
export interface ImageNode {
  /** The image key (`~` for the nameless image). */
  readonly name: string;
  readonly isArtifact: boolean;
  /** Keys of the images it needs built first, deduplicated, in config order. */
  readonly dependsOn: readonly string[];
}

/** The images an image depends on: its `from`/`fromImage`/`fromArtifact` base, imports and dependencies. */
export function imageDependencies(image: ResolvedImage): string[] {
  const names: string[] = [];
  if (image.kind === 'stapel') {
    if (image.from.kind === 'image') names.push(image.from.name);
    for (const imported of image.imports) names.push(imported.image);
  }
  for (const dependency of image.dependencies) names.push(dependency.image);
  return [...new Set(names)];
}

/** The dependency graph of a resolved config, in config order. */
export function imageGraph(config: Pick<ResolvedConfig, 'images'>): ImageNode[] {
  return config.images.map((image) => ({ name: image.key, isArtifact: image.isArtifact, dependsOn: imageDependencies(image) }));
}

/** A plan: every image to build, grouped into sets. */
export interface BuildPlan {
  /** `sets[i]` holds images whose dependencies are all in earlier sets; config order inside a set. */
  readonly sets: readonly (readonly ImageNode[])[];
  /** Every image of the plan, set by set. */
  readonly images: readonly ImageNode[];
}

export interface PlanOptions {
  /**
   * Build only these images (keys) and what they depend on, transitively.
   * @default every image of the graph
   */
  only?: readonly string[] | undefined;
}

/**
 * Groups `nodes` into sets (an image's set is one more than the highest set of its dependencies).
 * @throws CoreError `UNKNOWN_IMAGE` for a dependency or requested image that is not in the graph,
 *   `DEPENDENCY_CYCLE` with the full cycle (`a -> b -> a`) in the message and `data.cycle`.
 */
export function planBuild(nodes: readonly ImageNode[], options: PlanOptions = {}): BuildPlan {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const unknown = (name: string, neededBy?: string): CoreError =>
    new CoreError('UNKNOWN_IMAGE', neededBy === undefined ? `unknown image ${name}` : `image ${neededBy} depends on unknown image ${name}`, {
      hint: `Known images: ${[...byName.keys()].join(', ') || '(none)'}.`,
      data: { image: name, neededBy },
    });
  for (const node of nodes) for (const dep of node.dependsOn) if (!byName.has(dep)) throw unknown(dep, node.name);

  const level = new Map<string, number>();
  const visiting: string[] = [];
  const visit = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const start = visiting.indexOf(name);
    if (start >= 0) {
      const cycle = [...visiting.slice(start), name];
      throw new CoreError('DEPENDENCY_CYCLE', `image dependency cycle: ${cycle.join(' -> ')}`, {
        hint: 'Break the cycle in from/fromImage/import/dependencies.',
        data: { cycle },
      });
    }
    const node = byName.get(name);
    if (!node) throw unknown(name);
    visiting.push(name);
    const own = node.dependsOn.reduce((max, dep) => Math.max(max, visit(dep) + 1), 0);
    visiting.pop();
    level.set(name, own);
    return own;
  };

  const wanted = options.only ?? nodes.map((node) => node.name);
  for (const name of wanted) visit(name);
  // Everything visited is wanted or a (transitive) dependency of a wanted image.
  const included = nodes.filter((node) => level.has(node.name));
  const sets: ImageNode[][] = [];
  for (const node of included) {
    const index = level.get(node.name) ?? 0;
    while (sets.length <= index) sets.push([]);
    sets[index]?.push(node);
  }
  return { sets, images: sets.flat() };
}

/** `(no more than 5 images at the same time)`, or the unlimited variant for a limit ≤ 0. */
function limitText(parallelTasksLimit: number): string {
  return parallelTasksLimit > 0
    ? `no more than ${parallelTasksLimit} image${parallelTasksLimit === 1 ? '' : 's'} at the same time`
    : 'no limit on images at the same time';
}

/**
 * The plan as printed before a build (SPEC §4.4):
 *
 * ```
 * ┌ Concurrent builds plan (no more than 5 images at the same time)
 * │ Set #0:
 * │ - ⛵ image common-base
 * │ - 🛸 artifact jq
 * │
 * │ Set #1:
 * │ - ⛵ image app
 * └ Concurrent builds plan (no more than 5 images at the same time)
 * ```
 */
export function formatPlan(plan: BuildPlan, options: { parallelTasksLimit: number }): string {
  const title = `Concurrent builds plan (${limitText(options.parallelTasksLimit)})`;
  const lines = [`┌ ${title}`];
  plan.sets.forEach((set, index) => {
    if (index > 0) lines.push('│');
    lines.push(`│ Set #${index}:`);
    for (const node of set) lines.push(`│ - ${node.isArtifact ? '🛸 artifact' : '⛵ image'} ${node.name}`);
  });
  lines.push(`└ ${title}`);
  return lines.join('\n');
}
