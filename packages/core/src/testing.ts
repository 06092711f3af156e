/**
 * `@strata/core/testing`: in-memory adapters, a manual clock, and the contract suites every adapter of
 * `StageStore` and `StageLock` runs from its own tests (STYLE rule 18). The suites need vitest.
 */
export { canonicalJson } from './testing/canonical-json.js';
export { testCommit, testDigest, testStageRecord } from './testing/fixtures.js';
export { FakeExecutor, type FakeExecutorOptions } from './testing/fake-executor.js';
export { ManualClock, flushMicrotasks } from './testing/manual-clock.js';
export { MemoryStageLock, type MemoryStageLockOptions } from './stores/memory-stage-lock.js';
export {
  MemoryStageBackend,
  MemoryStageStore,
  type MemoryStageStoreCalls,
  type MemoryStageStoreOptions,
} from './stores/memory-stage-store.js';
export {
  describeStageLockContract,
  type StageLockContractSubject,
} from './testing/stage-lock-contract.js';
export {
  describeStageStoreContract,
  type StageStoreContractOptions,
  type StageStoreContractSubject,
} from './testing/stage-store-contract.js';
