/** Progress events of a build, in the order they happen for one image. */
import type { StageDigest, StageName } from './ids.js';
import type { BuildPlan } from './planner.js';
import type { StageStatus } from './report.js';

export type BuildEvent =
  | { readonly type: 'plan'; readonly plan: BuildPlan; readonly text: string }
  | { readonly type: 'imageStarted'; readonly image: string }
  | { readonly type: 'stageStarted'; readonly image: string; readonly stage: StageName; readonly digest: StageDigest }
  | {
      readonly type: 'stageFinished';
      readonly image: string;
      readonly stage: StageName;
      readonly digest: StageDigest;
      readonly stageId: string;
      readonly status: StageStatus;
      readonly durationMs: number;
    }
  | { readonly type: 'imageDone'; readonly image: string; readonly rebuilt: boolean; readonly durationMs: number };

/** Receives build events. Must not throw; it is called synchronously on the build's path. */
export type BuildEventListener = (event: BuildEvent) => void;
