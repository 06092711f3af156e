/** `node … noop-main.ts <project dir>`: runs bench/docker/noop.ts as an ES module program (tsx or an ESM bundle). */
import { run } from './noop.js';

await run();
