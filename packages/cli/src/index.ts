export { main, commands } from './main.js';
export { ExitCode, type CliIo } from './io.js';
