/** `node … noop-builder-main.ts <noise-count> [record-cache-dir]`: runs noop-builder.ts as an ES module program (tsx). */
import { run } from './noop-builder.js';

await run();
