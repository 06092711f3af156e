/**
 * The build engine: plans images, then for each stage of each image computes the digest, selects a
 * stored stage or builds and publishes one (SPEC §4). It knows ports only (STYLE rule 6); the caller
 * composes the adapters.
 */
import type { Dependency, DependencyImportType, ResolvedConfig, ResolvedImage, StapelImage } from '@strata/config';
import { abortReason, isStrataError } from '@strata/errors';
import type { GitRepository } from '@strata/git';
import { systemClock, type CallOptions, type Clock } from './clock.js';
import {
  computeContentDigest,
  computeStageDigest,
  currentCommits,
  dependenciesOfStage,
  gatherStageFacts,
  GitFactsCache,
  importsOfStage,
  planConveyor,
  type GatherStageFactsOptions,
  type ImageConveyor,
  type StageFacts,
  type StagePlan,
} from './conveyor/index.js';
import { importId, importSourceChecksumCommand } from './digest/imports.js';
import type { DigestInput } from './digest/inputs.js';
import { DIGEST_INPUTS_LABEL, compareInputs, encodeInputsRecord, findRecordedInputs, type InputDifference } from './explain/explain.js';
import { CoreError } from './errors.js';
import type { BuildEventListener } from './events.js';
import { compareStageIds, formatStageId, sameStageId, type StageDigest, type StageName } from './ids.js';
import { stageLabels } from './labels.js';
import { formatPlan, imageGraph, planBuild, type BuildPlan, type ImageNode } from './planner.js';
import type { Executor, GitMappingStep, GitPatchStep, ImportStep, StageBuildRequest } from './ports/executor.js';
import type { StageLock } from './ports/stage-lock.js';
import type { StageRecord, StageStore } from './ports/stage-store.js';
import { publishStage, type StageCandidate } from './publish.js';
import { buildReport, splitImageRef, type BuildReport, type ImageOutcome, type StageOutcome, type StageStatus } from './report.js';
import { DEFAULT_PARALLEL_TASKS_LIMIT, runSchedule } from './scheduler.js';
import { findSuitableStage, gitAncestryOracle, lookupStage, type AncestryOracle, type StageQuery } from './selection.js';
import { BuildSlots } from './build-slots.js';
import { SingleFlight } from './single-flight.js';
import { CachedStageStore } from './stores/cached-stage-store.js';

/** The stores of a project installation (SPEC §3.2). */
export interface EngineStores {
  /** Where stages are saved and first looked up: the primary repository, or local Docker storage. */
  primary: StageStore;
  /** Read-only stores searched after a primary miss; a hit is copied into the primary. @default [] */
  secondaries?: readonly StageStore[] | undefined;
  /** Read before the primary, written together with it; wrapped around the primary. @default [] */
  caches?: readonly StageStore[] | undefined;
  /** Receives the last stage of each final image after it is done. @default none */
  final?: StageStore | undefined;
}

export interface EngineOptions {
  config: ResolvedConfig;
  /** The project's repository; files come from its HEAD commit (giterminism). */
  repository: GitRepository;
  stores: EngineStores;
  /** Guards publishing (SPEC §4.2): in-process, file or distributed. */
  lock: StageLock;
  executor: Executor;
  /**
   * Slots for the work that loads the host at once: a stage build with the publish of its image, an
   * import checksum, a copy from a secondary store, a final-store publish; so at most this many images
   * build at the same time. ≤ 0 means unlimited. Looking up stored stages takes no slot: every image
   * whose dependencies are done is looked up at once, and a no-op build never waits for a slot. (A
   * cache store's copy into the primary happens inside its lookup and is not bounded.)
   * @default 5
   */
  parallelTasksLimit?: number | undefined;
  /** Source of stage timestamps and durations. @default systemClock */
  clock?: Clock | undefined;
  /** Progress events. @default none */
  events?: BuildEventListener | undefined;
  /** Lease of the publish lock. @default 30000 */
  lockTtlMs?: number | undefined;
  /** Dockerfile images: how to read the Dockerfile and its context (e.g. allowing contextAddFiles). */
  dockerfile?: GatherStageFactsOptions['dockerfile'];
}

/** What {@link Engine.build} returns. */
export interface BuildResult {
  /** The git commit the build ran at. */
  commit: string;
  plan: BuildPlan;
  /** Per image, in completion order. */
  images: ImageOutcome[];
  /** SPEC §4.5. */
  report: BuildReport;
}

/** Why a dry run expects a stage to be built. */
export type RebuildReason =
  /** The previous stage would be built, so this one must be too (SPEC §4.1 step 4). */
  | { readonly kind: 'previousRebuilt' }
  /**
   * A stage was built before on the same previous stage (its `werf.io/parent-stage-id`); `difference` is
   * the first input that differs from it, `undefined` when it recorded no inputs (built by werf or an
   * older Strata).
   */
  | { readonly kind: 'inputsChanged'; readonly previous: StageRecord; readonly difference: InputDifference | undefined }
  /** Stages with this digest are stored but none qualifies (commits of another branch, or too old). */
  | { readonly kind: 'noSuitableStage'; readonly candidates: number }
  /** No stored stage was built on the same previous stage (or this is the image's first stage). */
  | { readonly kind: 'nothingToCompare' };

/** What a build would do with one stage. */
export type StageDecision =
  | { readonly kind: 'reuse'; readonly stage: StageRecord; readonly store: string }
  | { readonly kind: 'copy'; readonly stage: StageRecord; readonly store: string }
  | { readonly kind: 'build'; readonly reason: RebuildReason };

export interface StageExplanation {
  readonly name: StageName;
  readonly digest: StageDigest;
  /** The labelled inputs of the digest (`formatInputs` prints them). */
  readonly inputs: readonly DigestInput[];
  readonly decision: StageDecision;
}

/** Why a dry run cannot compute a stage's digest, nor any after it in the image. */
export type PendingReason =
  /**
   * The stage needs the stored image of an upstream image (its files for an import, its name or tag for
   * a dependency) and `stage` of that image would be built first.
   */
  | { readonly kind: 'upstreamToBeBuilt'; readonly image: string; readonly stage: StageName }
  /** The stage imports files from stored `image`; only the executor can checksum them (`plan()` calls none). */
  | { readonly kind: 'importChecksum'; readonly image: string };

export interface ImageExplanation {
  readonly image: string;
  /** Non-empty stages in conveyor order whose digests are known without building. */
  readonly stages: readonly StageExplanation[];
  /** Set when the dry run stopped before the end of the conveyor: the first stage it could not compute. */
  readonly pending?: { readonly stage: StageName; readonly reason: PendingReason } | undefined;
  /** {@link pending} in words (`stage install needs image base, whose stage setup would be built first`). */
  readonly incomplete?: string | undefined;
}

/** What {@link Engine.plan} returns. */
export interface PlanResult {
  /** The sets of images (SPEC §4.4). */
  plan: BuildPlan;
  /** The printed plan. */
  text: string;
  /**
   * Per image, in plan order: every digest that can be known without building, what a build would do
   * with each stage (`reuse`, `copy`, or `build`: a `previousRebuilt` stage depends on a stage still to
   * be built), and where the stages stop being knowable ({@link ImageExplanation.pending}).
   */
  images: ImageExplanation[];
}

export interface Engine {
  /**
   * A dry run that calls no executor: the plan for `images` (all by default) and its printed form
   * (SPEC §4.4), and every stage digest that can be known without building, with what a build would do
   * with it. Reads stores and git only; never builds, copies or publishes. Digests of stages after an
   * import (whose checksum needs the executor) or after a dependency on an image still to be built are
   * reported as pending.
   * @throws CoreError `UNKNOWN_IMAGE`, `DEPENDENCY_CYCLE`; the signal's reason when aborted.
   */
  plan(images?: readonly string[], options?: CallOptions): Promise<PlanResult>;
  /**
   * Builds `images` (all by default) and what they depend on.
   * @throws CoreError `BUILD_FAILED` naming the image and stage, `UNKNOWN_IMAGE`, `DEPENDENCY_CYCLE`;
   *   the signal's reason when aborted.
   */
  build(images?: readonly string[], options?: CallOptions): Promise<BuildResult>;
  /**
   * A dry run: computes every stage's digest and inputs, and says what a build would do and why a stage
   * would be rebuilt (the first input that differs from the stage built last time on the same previous
   * stage). Reads stores and git only; never builds, copies or publishes.
   */
  explain(images?: readonly string[], options?: CallOptions): Promise<ImageExplanation[]>;
}

/** How many of the newest stored stages a dry run inspects to find the one built on the same previous stage. */
const EXPLAIN_CANDIDATES = 20;

/** Creates an engine. Does no I/O. */
export function createEngine(options: EngineOptions): Engine {
  return new StageEngine(options);
}

/** The outcome of obtaining one stage. */
interface Obtained {
  status: StageStatus;
  stage: StageRecord;
}

/** Per-build state shared by every image. */
interface BuildContext {
  commit: string;
  oracle: AncestryOracle;
  /** Git answers shared by every image of the build. */
  gitFacts: GitFactsCache;
  primary: StageStore;
  /** The primary wrapped with the cache stores, when there are caches: it tells which records a cache served. */
  cached: CachedStageStore | undefined;
  /** Finished images by key: what dependents need. */
  done: Map<string, ImageOutcome>;
  flights: SingleFlight<StageDigest, Obtained>;
  /** Bounds the executor calls of the build (`parallelTasksLimit`). */
  slots: BuildSlots;
}

/** Where one stage is built: the image, its conveyor, and the selected stages below it. */
interface StageContext {
  build: BuildContext;
  image: ResolvedImage;
  conveyor: ImageConveyor;
  stage: StagePlan;
  digest: StageDigest;
  /** The previous non-empty stage, as selected or built. */
  prev: StageRecord | undefined;
  /** Commits per mapping recorded on the nearest git-related stage so far (the patch base). */
  gitBase: readonly (string | undefined)[] | undefined;
  importChecksums: Readonly<Record<string, string>>;
  /** The digest's labelled inputs, recorded on a built stage for `explain`. */
  inputs: readonly DigestInput[];
}

class StageEngine implements Engine {
  readonly #options: EngineOptions;
  readonly #clock: Clock;
  readonly #emit: BuildEventListener;
  readonly #limit: number;

  constructor(options: EngineOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#emit = options.events ?? (() => undefined);
    this.#limit = options.parallelTasksLimit ?? DEFAULT_PARALLEL_TASKS_LIMIT;
  }

  async plan(images?: readonly string[], options: CallOptions = {}): Promise<PlanResult> {
    const { plan, text } = this.#sets(images, options);
    return { plan, text, images: await this.#dryRun(plan, { executor: false }, options) };
  }

  /** The sets and their printed form. No I/O. */
  #sets(images: readonly string[] | undefined, options: CallOptions): { plan: BuildPlan; text: string } {
    options.signal?.throwIfAborted();
    const plan = planBuild(imageGraph(this.#options.config), { only: images });
    return { plan, text: formatPlan(plan, { parallelTasksLimit: this.#limit }) };
  }

  async build(images?: readonly string[], options: CallOptions = {}): Promise<BuildResult> {
    const { signal } = options;
    const { plan, text } = this.#sets(images, options);
    this.#emit({ type: 'plan', plan, text });
    const { repository, stores } = this.#options;
    const caches = stores.caches ?? [];
    const cached = caches.length > 0 ? new CachedStageStore(stores.primary, caches) : undefined;
    const primary = cached ?? stores.primary;
    // The store's listing and the git work overlap; a failed prefetch is reported by the first lookup
    // that needs the listing. Cancelled if the build fails before any lookup.
    const prefetching = new AbortController();
    primary.prefetch?.({ signal: signal === undefined ? prefetching.signal : AbortSignal.any([signal, prefetching.signal]) }).catch(() => undefined);
    let commit: string;
    try {
      commit = await repository.headCommit({ signal });
    } catch (error) {
      prefetching.abort(error);
      throw error;
    }
    const context: BuildContext = {
      commit,
      oracle: gitAncestryOracle(repository, commit),
      gitFacts: new GitFactsCache(),
      primary,
      cached,
      done: new Map(),
      flights: new SingleFlight(),
      slots: new BuildSlots(this.#limit),
    };
    const outcomes: ImageOutcome[] = [];
    // Images start as soon as their dependencies are done; the limit applies to executor calls
    // (context.slots), so lookups of stored stages never queue behind builds.
    await runSchedule(plan, {
      signal,
      parallelTasksLimit: 0,
      run: async (node, runSignal) => {
        let outcome: ImageOutcome;
        try {
          outcome = await this.#buildImage(node, context, runSignal);
        } catch (error) {
          // As the schedule starts no image after a failure, no executor call starts after one either.
          context.slots.stop(error);
          throw error;
        }
        context.done.set(node.name, outcome);
        outcomes.push(outcome);
        return outcome;
      },
    });
    return { commit, plan, images: outcomes, report: buildReport(outcomes) };
  }

  async explain(images?: readonly string[], options: CallOptions = {}): Promise<ImageExplanation[]> {
    return this.#dryRun(this.#sets(images, options).plan, { executor: true }, options);
  }

  /** `plan()` and `explain()`: every image in plan order; `executor` allows import checksums. */
  async #dryRun(plan: BuildPlan, mode: { executor: boolean }, options: CallOptions): Promise<ImageExplanation[]> {
    const signal = options.signal ?? new AbortController().signal;
    const { repository } = this.#options;
    const commit = await repository.headCommit({ signal });
    const oracle = gitAncestryOracle(repository, commit);
    const gitFacts = new GitFactsCache();
    const known = new Map<string, UpstreamImage>();
    /** Images the dry run could not finish: the stage where each stopped. */
    const stopped = new Map<string, StageName>();
    // An upstream image missing here could not be explained fully: its dependents cannot be either.
    const upstream: Upstream = (key) => {
      const image = known.get(key);
      if (image) return image;
      const stage = stopped.get(key);
      if (stage) throw new UpstreamNotBuilt(key, stage);
      // The plan orders every image after what it depends on, so this is a broken invariant.
      throw new CoreError('UNKNOWN_IMAGE', `image ${key} is needed before it was planned`, { data: { image: key } });
    };
    const explanations: ImageExplanation[] = [];
    for (const node of plan.images) {
      const context = { commit, oracle, gitFacts, upstream, executor: mode.executor };
      const { explanation, last } = await this.#explainImage(node.name, context, signal);
      explanations.push(explanation);
      if (last) known.set(node.name, last);
      if (explanation.pending) stopped.set(node.name, explanation.pending.stage);
    }
    return explanations;
  }

  async #explainImage(
    key: string,
    context: { commit: string; oracle: AncestryOracle; gitFacts: GitFactsCache; upstream: Upstream; executor: boolean },
    signal: AbortSignal,
  ): Promise<{ explanation: ImageExplanation; last: UpstreamImage | undefined }> {
    const image = this.#options.config.images.find((candidate) => candidate.key === key);
    if (!image) throw new CoreError('UNKNOWN_IMAGE', `unknown image ${key}`, { data: { image: key } });
    const conveyor = planConveyor(image, { build: this.#options.config.build });
    const stages: StageExplanation[] = [];
    let prev: { plan: StagePlan; digest: StageDigest; record: StageRecord | undefined; commits: string[] } | undefined;
    let gitBase: (string | undefined)[] | undefined;
    let last: UpstreamImage | undefined;
    let rebuilding = false;
    for (const stage of conveyor.stages) {
      signal.throwIfAborted();
      let facts: StageFacts;
      try {
        ({ facts } = await this.#facts(context, context.upstream, image, conveyor, stage, gitBase, signal, context.executor));
      } catch (error) {
        const reason = pendingReason(error);
        if (!reason) throw error;
        return {
          explanation: { image: key, stages, pending: { stage: stage.name, reason }, incomplete: describePending(stage.name, reason) },
          last: undefined,
        };
      }
      const result = computeStageDigest(conveyor, stage, {
        prev: prev && { digest: prev.digest, gitRelated: prev.plan.gitRelated, commits: prev.commits },
        facts,
      });
      if (result.kind === 'empty') continue;
      const { digest, inputs } = result;
      const query: StageQuery = { digest, gitRelated: stage.gitRelated, previous: prev?.record?.id, mappingHashes: mappingHashesOf(conveyor) };
      const decision: StageDecision = rebuilding
        ? { kind: 'build', reason: { kind: 'previousRebuilt' } }
        : await this.#decide(query, prev?.record, inputs, context.oracle, signal);
      stages.push({ name: stage.name, digest, inputs, decision });
      if (decision.kind === 'build') {
        rebuilding = true;
        const commits = stage.gitRelated ? currentCommits(conveyor, context.commit) : [];
        prev = { plan: stage, digest, record: undefined, commits };
        if (stage.gitRelated) gitBase = commits;
        last = { contentDigest: computeContentDigest(conveyor, { stage, digest, commits }), toBuild: stage.name };
      } else {
        const recorded = commitsOf(conveyor, decision.stage);
        prev = { plan: stage, digest, record: decision.stage, commits: recorded.filter((c): c is string => c !== undefined) };
        if (stage.gitRelated) gitBase = recorded;
        last = { contentDigest: decision.stage.contentDigest, stage: decision.stage };
      }
    }
    return { explanation: { image: key, stages }, last };
  }

  /** Read-only selection for a dry run: primary, caches, then secondaries; never copies. */
  async #decide(
    query: StageQuery,
    prev: StageRecord | undefined,
    inputs: readonly DigestInput[],
    oracle: AncestryOracle,
    signal: AbortSignal,
  ): Promise<StageDecision> {
    const { primary, caches = [], secondaries = [] } = this.#options.stores;
    const reused = await findSuitableStage(primary, query, oracle, { signal });
    if (reused) return { kind: 'reuse', stage: reused, store: primary.name };
    for (const store of [...caches, ...secondaries]) {
      const found = await findSuitableStage(store, query, oracle, { signal });
      if (found) return { kind: 'copy', stage: found, store: store.name };
    }
    const sameDigest = await primary.listStageIds(query.digest, { signal });
    if (sameDigest.length > 0) return { kind: 'build', reason: { kind: 'noSuitableStage', candidates: sameDigest.length } };
    if (!prev) return { kind: 'build', reason: { kind: 'nothingToCompare' } };
    // A stage built on `prev` is never older than it; look at the newest few such candidates.
    const candidates = (await primary.listStageIds(undefined, { signal }))
      .filter((id) => id.timestampMs >= prev.id.timestampMs && !sameStageId(id, prev.id))
      .sort((a, b) => compareStageIds(b, a))
      .slice(0, EXPLAIN_CANDIDATES);
    for (const id of candidates) {
      const record = await primary.findStage(id, { signal });
      if (!record?.parentStageId || !sameStageId(record.parentStageId, prev.id)) continue;
      const recorded = findRecordedInputs(record.labels);
      return {
        kind: 'build',
        reason: { kind: 'inputsChanged', previous: record, difference: recorded ? compareInputs(inputs, recorded) : undefined },
      };
    }
    return { kind: 'build', reason: { kind: 'nothingToCompare' } };
  }

  async #buildImage(node: ImageNode, build: BuildContext, signal: AbortSignal): Promise<ImageOutcome> {
    const image = this.#options.config.images.find((candidate) => candidate.key === node.name);
    if (!image) throw new CoreError('UNKNOWN_IMAGE', `unknown image ${node.name}`, { data: { image: node.name } });
    const startedAt = this.#clock.now();
    this.#emit({ type: 'imageStarted', image: image.key });
    const conveyor = planConveyor(image, { build: this.#options.config.build });
    const stages: StageOutcome[] = [];
    let prev: { plan: StagePlan; record: StageRecord } | undefined;
    let gitBase: (string | undefined)[] | undefined;

    for (const stage of conveyor.stages) {
      const stageStart = this.#clock.now();
      try {
        signal.throwIfAborted();
        const { facts, importChecksums } = await this.#facts(build, builtUpstream(build), image, conveyor, stage, gitBase, signal, true);
        const result = computeStageDigest(conveyor, stage, {
          prev: prev && {
            digest: prev.record.id.digest,
            gitRelated: prev.plan.gitRelated,
            commits: commitsOf(conveyor, prev.record).filter((c): c is string => c !== undefined),
          },
          facts,
        });
        if (result.kind === 'empty') continue;
        const digest = result.digest;
        this.#emit({ type: 'stageStarted', image: image.key, stage: stage.name, digest });
        const stageContext: StageContext = {
          build, image, conveyor, stage, digest, prev: prev?.record, gitBase, importChecksums, inputs: result.inputs,
        };
        let leader = false;
        const obtained = await build.flights.run(
          digest,
          (flightSignal) => {
            leader = true;
            return this.#obtain(stageContext, flightSignal);
          },
          { signal },
        );
        // Another image of this build obtained the stage and saved it in the primary: here it is reused.
        const status: StageStatus = leader ? obtained.status : 'reused';
        const durationMs = this.#clock.now() - stageStart;
        stages.push({ name: stage.name, stage: obtained.stage, status, durationMs, inputs: result.inputs });
        this.#emit({
          type: 'stageFinished', image: image.key, stage: stage.name, digest,
          stageId: formatStageId(obtained.stage.id), status, durationMs,
        });
        prev = { plan: stage, record: obtained.stage };
        if (stage.gitRelated) gitBase = commitsOf(conveyor, obtained.stage);
      } catch (error) {
        throw stageFailure(error, image.key, stage.name, signal);
      }
    }

    const outcome: ImageOutcome = {
      image: image.key,
      final: image.final,
      commit: build.commit,
      stages,
      durationMs: this.#clock.now() - startedAt,
    };
    const last = stages.at(-1);
    const finalStore = this.#options.stores.final;
    if (last && image.final && finalStore) await build.slots.run(() => finalStore.publish(last.stage, { signal }), signal);
    this.#emit({
      type: 'imageDone', image: image.key, rebuilt: stages.some((s) => s.status === 'built'), durationMs: outcome.durationMs,
    });
    return outcome;
  }

  /** Git facts from the repository plus what only the engine knows (other images' results, import checksums). */
  async #facts(
    /** `slots`, when given, bounds the import checksums (executor calls); a dry run has none. */
    build: Pick<BuildContext, 'commit' | 'gitFacts'> & { slots?: BuildSlots | undefined },
    upstream: Upstream,
    image: ResolvedImage,
    conveyor: ImageConveyor,
    stage: StagePlan,
    gitBase: readonly (string | undefined)[] | undefined,
    signal: AbortSignal,
    /** Whether import checksums may be computed (by the executor); otherwise an import throws {@link ImportNeedsExecutor}. */
    executor: boolean,
  ): Promise<{ facts: StageFacts; importChecksums: Record<string, string> }> {
    const gathered = await gatherStageFacts(conveyor, stage.name, {
      repository: this.#options.repository,
      commit: build.commit,
      prevBuiltStageCommits: gitBase,
      cache: build.gitFacts,
      dockerfile:
        image.kind === 'dockerfile'
          ? { ...this.#options.dockerfile, dependencyArgs: dependencyTargets(upstream, image.dependencies, 'targetBuildArg') }
          : this.#options.dockerfile,
      signal,
    });
    const facts: StageFacts = { ...gathered };
    const importChecksums: Record<string, string> = {};
    if (image.kind !== 'stapel') return { facts, importChecksums };
    if (stage.name === 'from' && image.from.kind === 'image') {
      facts.baseImageContentDigest = upstream(image.from.name).contentDigest;
    }
    const imports = importsOfStage(image, stage.name);
    if (imports.length > 0) {
      facts.imports = await Promise.all(
        imports.map(async (entry) => {
          const source = storedUpstream(upstream, entry.image);
          if (!executor) throw new ImportNeedsExecutor(entry.image);
          const checksum = (): Promise<string> =>
            this.#options.executor.importChecksum(
              {
                sourceImageRef: source.imageRef,
                add: entry.add,
                includePaths: entry.includePaths,
                excludePaths: entry.excludePaths,
                command: importSourceChecksumCommand(entry),
              },
              { signal },
            );
          const sourceChecksum = await (build.slots ? build.slots.run(checksum, signal) : checksum());
          importChecksums[importId(entry)] = sourceChecksum;
          return { sourceChecksum };
        }),
      );
    }
    const dependencies = dependenciesOfStage(image, stage.name);
    if (dependencies.length > 0) {
      facts.dependencies = dependencies.map((dependency) => ({ imageName: storedUpstream(upstream, dependency.image).imageRef }));
    }
    return { facts, importChecksums };
  }

  /** SPEC §4.1 then §4.2: select a stored stage, else build and publish one. */
  async #obtain(context: StageContext, signal: AbortSignal): Promise<Obtained> {
    const { build, digest, stage } = context;
    const query: StageQuery = { digest, gitRelated: stage.gitRelated, previous: context.prev?.id, mappingHashes: mappingHashesOf(context.conveyor) };
    const found = await lookupStage(
      {
        primary: build.primary,
        secondaries: this.#options.stores.secondaries,
        // A copy moves an image between stores: it takes a slot, as a build does.
        transfer: (copy) => build.slots.run(copy, signal),
      },
      query,
      build.oracle,
      { signal },
    );
    if (found) {
      const viaCache = found.status === 'reused' && build.cached?.servedFromCache(found.stage) === true;
      return { status: viaCache ? 'copied' : found.status, stage: found.stage };
    }

    const commits: Record<string, string> = stage.gitRelated
      ? Object.fromEntries(context.conveyor.gitMappings.map((mapping) => [mapping.paramsHash, build.commit]))
      : {};
    const contentDigest = computeContentDigest(context.conveyor, {
      stage,
      digest,
      commits: stage.gitRelated ? currentCommits(context.conveyor, build.commit) : [],
    });
    const labels = {
      ...stageLabels({
        project: this.#options.config.project,
        digest,
        contentDigest,
        parentStageId: context.prev?.id,
        commits,
        headCommit: build.commit,
        importChecksums: context.importChecksums,
      }),
      [DIGEST_INPUTS_LABEL]: encodeInputsRecord(context.inputs),
    };
    const request = buildRequest(context, labels);
    // One slot for the build and the publish that moves its image into the store.
    return build.slots.run(async () => {
      let built;
      try {
        built = await this.#options.executor.buildStage(request, { signal });
      } catch (error) {
        if (signal.aborted) throw abortReason(signal);
        throw new CoreError('STAGE_BUILD_FAILED', `building stage ${stage.name} of image ${context.image.key} failed: ${messageOf(error)}`, {
          hint: isStrataError(error) ? error.hint : 'See the cause for the executor\'s output.',
          data: { image: context.image.key, stage: stage.name, digest },
          cause: error,
        });
      }
      const candidate: StageCandidate = {
        digest,
        project: this.#options.config.project,
        contentDigest,
        imageRef: built.imageRef,
        imageId: built.imageId,
        size: built.size,
        parentStageId: context.prev?.id,
        commits,
        headCommit: build.commit,
        importChecksums: context.importChecksums,
        labels,
      };
      const saved = await publishStage(candidate, {
        store: build.primary,
        lock: this.#options.lock,
        project: this.#options.config.project,
        clock: this.#clock,
        query,
        ancestry: build.oracle,
        lockTtlMs: this.#options.lockTtlMs,
        signal,
      });
      return { status: saved.status, stage: saved.stage };
    }, signal);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Wraps a stage failure with the image and stage, unless it already says which (or is an abort). */
function stageFailure(error: unknown, image: string, stage: StageName, signal: AbortSignal): Error {
  if (signal.aborted) return abortReason(signal);
  if (isStrataError(error)) {
    const data = error.data as { stage?: unknown; image?: unknown } | undefined;
    if (data?.stage !== undefined && data.image !== undefined) return error;
  }
  return new CoreError('BUILD_FAILED', `image ${image} failed at stage ${stage}: ${messageOf(error)}`, {
    hint: isStrataError(error) ? error.hint : undefined,
    data: { image, stage },
    cause: error,
  });
}

/** The label keys of the image's own git mappings (see {@link StageQuery.mappingHashes}). */
function mappingHashesOf(conveyor: ImageConveyor): string[] {
  return conveyor.gitMappings.map((mapping) => mapping.paramsHash);
}

/** A stage's commits in mapping order (`undefined` where a mapping has none recorded). */
function commitsOf(conveyor: ImageConveyor, record: StageRecord): (string | undefined)[] {
  return conveyor.gitMappings.map((mapping) => record.commits[mapping.paramsHash]);
}

/** What a stage needs to know about an image it depends on. */
interface UpstreamImage {
  /** The content digest of its last stage (stored, or as it would be built). */
  contentDigest: string;
  /** Its last stage, when stored. */
  stage?: StageRecord | undefined;
  /** In a dry run, the last stage when it would be built. */
  toBuild?: StageName | undefined;
}

type Upstream = (imageKey: string) => UpstreamImage;

/**
 * Raised (in a dry run) when a fact needs an upstream image that would have to be built first; `stage` is
 * its stage to be built, or the stage where its own dry run stopped.
 */
class UpstreamNotBuilt extends Error {
  constructor(
    readonly image: string,
    readonly stage: StageName,
  ) {
    super(`image ${image} would be rebuilt first`);
  }
}

/** Raised (in `plan()`) when a fact is an import checksum, which only the executor can compute. */
class ImportNeedsExecutor extends Error {
  constructor(readonly image: string) {
    super(`importing from image ${image} needs the executor`);
  }
}

function pendingReason(error: unknown): PendingReason | undefined {
  if (error instanceof UpstreamNotBuilt) return { kind: 'upstreamToBeBuilt', image: error.image, stage: error.stage };
  if (error instanceof ImportNeedsExecutor) return { kind: 'importChecksum', image: error.image };
  return undefined;
}

function describePending(stage: StageName, reason: PendingReason): string {
  return reason.kind === 'importChecksum'
    ? `stage ${stage} imports files from image ${reason.image}; their checksum needs the executor`
    : `stage ${stage} needs image ${reason.image}, whose stage ${reason.stage} would be built first`;
}

function storedUpstream(upstream: Upstream, imageKey: string): StageRecord {
  const { stage, toBuild } = upstream(imageKey);
  if (stage) return stage;
  if (toBuild) throw new UpstreamNotBuilt(imageKey, toBuild);
  throw new CoreError('UNKNOWN_IMAGE', `image ${imageKey} has neither a stored nor a planned last stage`, { data: { image: imageKey } });
}

function builtUpstream(build: BuildContext): Upstream {
  return (imageKey) => {
    const stage = lastStage(build, imageKey);
    return { contentDigest: stage.contentDigest, stage };
  };
}

function lastStage(build: BuildContext, imageKey: string): StageRecord {
  const stage = build.done.get(imageKey)?.stages.at(-1)?.stage;
  if (stage) return stage;
  // The scheduler starts an image only after its dependencies, so this is a broken invariant.
  throw new CoreError('UNKNOWN_IMAGE', `image ${imageKey} is needed but has not been built`, { data: { image: imageKey } });
}

function mappingStep(context: StageContext, index: number): GitMappingStep {
  const mapping = context.conveyor.gitMappings[index];
  if (!mapping) throw new CoreError('BUILD_FAILED', `no git mapping #${index}`, { data: { image: context.image.key } });
  const { config } = mapping;
  return {
    paramsHash: mapping.paramsHash,
    add: config.add,
    to: config.to,
    includePaths: config.includePaths,
    excludePaths: config.excludePaths,
    owner: config.owner,
    group: config.group,
  };
}

/** Patches from the nearest git-related stage's commits to the current commit, for mappings that moved. */
function gitPatches(context: StageContext): GitPatchStep[] {
  const base = context.gitBase;
  if (!base) return [];
  const steps: GitPatchStep[] = [];
  context.conveyor.gitMappings.forEach((_mapping, index) => {
    const fromCommit = base[index];
    if (fromCommit === undefined || fromCommit === context.build.commit) return;
    steps.push({ ...mappingStep(context, index), fromCommit, toCommit: context.build.commit });
  });
  return steps;
}

function dependencyValue(type: DependencyImportType, stage: StageRecord): string {
  const { repo, tag } = splitImageRef(stage.imageRef);
  switch (type) {
    case 'ImageName':
      return stage.imageRef;
    case 'ImageTag':
      return tag;
    case 'ImageRepo':
      return repo;
    case 'ImageID':
      return stage.imageId ?? '';
    case 'ImageDigest':
      return stage.repoDigest ?? '';
  }
}

function dependencyTargets(upstream: Upstream, dependencies: readonly Dependency[], target: 'targetEnv' | 'targetBuildArg'): Record<string, string> {
  const values: Record<string, string> = {};
  for (const dependency of dependencies) {
    const stage = storedUpstream(upstream, dependency.image);
    for (const entry of dependency.imports) {
      const name = entry[target];
      if (name !== undefined) values[name] = dependencyValue(entry.type, stage);
    }
  }
  return values;
}

function baseImageRef(context: StageContext): string {
  if (context.prev) return context.prev.imageRef;
  throw new CoreError('BUILD_FAILED', `stage ${context.stage.name} of image ${context.image.key} has no base stage`, {
    data: { image: context.image.key, stage: context.stage.name },
  });
}

/** The executor request for one stage (SPEC §4.3). */
function buildRequest(context: StageContext, labels: Readonly<Record<string, string>>): StageBuildRequest {
  const { image, stage, digest, build } = context;
  const common = { image: image.key, stage: stage.name, digest, labels };
  if (image.kind === 'dockerfile') {
    if (stage.name === 'imageSpec' && context.conveyor.imageSpec) {
      return { ...common, kind: 'imageSpec', baseImageRef: baseImageRef(context), spec: context.conveyor.imageSpec };
    }
    return {
      ...common,
      kind: 'dockerfile',
      commit: build.commit,
      dockerfile: image.dockerfile,
      context: image.context,
      contextAddFiles: image.contextAddFiles,
      target: image.target,
      buildArgs: { ...image.args, ...dependencyTargets(builtUpstream(build), image.dependencies, 'targetBuildArg') },
      addHost: image.addHost,
      network: image.network,
    };
  }
  const stapel: StapelImage = image;
  switch (stage.name) {
    case 'from': {
      const from = stapel.from;
      const base =
        from.kind === 'external'
          ? { kind: 'external' as const, ref: from.ref }
          : from.kind === 'scratch'
            ? { kind: 'scratch' as const }
            : { kind: 'stage' as const, imageRef: lastStage(build, from.name).imageRef, image: from.name };
      return { ...common, kind: 'from', base, mounts: stapel.mounts };
    }
    case 'beforeInstall':
    case 'install':
    case 'beforeSetup':
    case 'setup':
      return {
        ...common,
        kind: 'shell',
        baseImageRef: baseImageRef(context),
        commands: stapel.shell[stage.name],
        gitPatches: stage.gitRelated ? gitPatches(context) : [],
        mounts: stapel.mounts,
      };
    case 'gitArchive':
      return {
        ...common,
        kind: 'gitArchive',
        baseImageRef: baseImageRef(context),
        mappings: context.conveyor.gitMappings.map((_m, index) => ({ ...mappingStep(context, index), commit: build.commit })),
      };
    case 'gitCache':
    case 'gitLatestPatch':
      return { ...common, kind: 'gitPatch', baseImageRef: baseImageRef(context), patches: gitPatches(context) };
    case 'dependenciesBeforeInstall':
    case 'dependenciesAfterInstall':
    case 'dependenciesBeforeSetup':
    case 'dependenciesAfterSetup': {
      const imports: ImportStep[] = importsOfStage(stapel, stage.name).map((entry) => ({
        sourceImageRef: lastStage(build, entry.image).imageRef,
        sourceImage: entry.image,
        add: entry.add,
        to: entry.to,
        includePaths: entry.includePaths,
        excludePaths: entry.excludePaths,
        owner: entry.owner,
        group: entry.group,
      }));
      return {
        ...common,
        kind: 'dependencies',
        baseImageRef: baseImageRef(context),
        imports,
        env: dependencyTargets(builtUpstream(build), dependenciesOfStage(stapel, stage.name), 'targetEnv'),
      };
    }
    case 'dockerInstructions':
      return { ...common, kind: 'dockerInstructions', baseImageRef: baseImageRef(context), instructions: stapel.docker };
    case 'imageSpec':
      if (context.conveyor.imageSpec) {
        return { ...common, kind: 'imageSpec', baseImageRef: baseImageRef(context), spec: context.conveyor.imageSpec };
      }
      break;
    case 'dockerfile':
      break;
  }
  throw new CoreError('BUILD_FAILED', `stage ${stage.name} does not belong to image ${image.key}`, {
    data: { image: image.key, stage: stage.name },
  });
}
