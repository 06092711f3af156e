/**
 * The self-contained `strata` CLI: `pnpm bundle` (from the root) writes
 *
 * - `packages/cli/dist/strata-main.cjs`: the CLI and every dependency in one minified CommonJS file;
 * - `packages/cli/dist/strata.cjs`: the small launcher to run (`node packages/cli/dist/strata.cjs build`),
 *   which loads strata-main.cjs with a V8 code cache (src/launcher/compile-cache.ts).
 *
 * The bundle needs no `node_modules` at run time except for what is deferred: three dockerode modules
 * whose dependencies are heavy and that a unix-socket, classic-builder Strata never runs are bundled as
 * lazy forwarders instead of their code: `docker-modem/lib/ssh.js` (ssh2, for `ssh://` engines;
 * docker-modem requires it at load time), `dockerode/lib/session.js` (@grpc/grpc-js, @grpc/proto-loader,
 * protobufjs: BuildKit sessions) and `dockerode/lib/buildkit.js` (protobufjs: BuildKit progress). A
 * forwarder exports the same functions (read from the real module when bundling); the first call
 * requires the real module from the installed packages, so `ssh://` engines and BuildKit still work.
 * `bundleStrata` is also what `pnpm bench:docker` bundles its programs with.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild, type Plugin } from 'esbuild';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A deferred module: where it is installed (to read its shape when bundling) and how the bundle loads it. */
interface DeferredModule {
  file: string;
  /**
   * An expression that requires the real module at run time, resolved from the bundle's own location
   * (never a path of the machine that bundled it): `dockerode/…` through the bundle's `require`,
   * docker-modem (dockerode's dependency) through a `require` made at dockerode's package.json.
   */
  load: string;
}

function deferred(): DeferredModule[] {
  const dockerodeDir = path.dirname(createRequire(path.join(cliDir, 'package.json')).resolve('dockerode/package.json'));
  const modemDir = path.dirname(createRequire(path.join(dockerodeDir, 'package.json')).resolve('docker-modem/package.json'));
  // `?real` marks the bundle's own require for the resolver below (kept external, as a bare specifier).
  return [
    { file: path.join(dockerodeDir, 'lib/session.js'), load: 'require("dockerode/lib/session.js?real")' },
    { file: path.join(dockerodeDir, 'lib/buildkit.js'), load: 'require("dockerode/lib/buildkit.js?real")' },
    {
      file: path.join(modemDir, 'lib/ssh.js'),
      load: 'require("node:module").createRequire(require.resolve("dockerode/package.json"))("docker-modem/lib/ssh.js")',
    },
  ];
}

/** Absolute paths of the deferred modules as installed (docker-modem resolved from dockerode, as Node does). */
export function deferredModules(): string[] {
  return deferred().map((module) => module.file);
}

/**
 * The forwarder of one CommonJS module: its export is a function or an object of functions (the
 * deferred modules' shapes; anything else fails the bundle rather than change behaviour).
 */
function forwarder(module: DeferredModule): string {
  const exported: unknown = createRequire(import.meta.url)(module.file);
  const lines = [`let __strataLoaded; const __strataReal = () => (__strataLoaded ??= ${module.load});`];
  const real = '__strataReal()';
  if (typeof exported === 'function') {
    lines.push(`module.exports = function () { return ${real}.apply(this, arguments); };`);
  } else if (typeof exported === 'object' && exported !== null && Object.values(exported).every((v) => typeof v === 'function')) {
    for (const key of Object.keys(exported)) {
      lines.push(`exports[${JSON.stringify(key)}] = function () { return ${real}[${JSON.stringify(key)}].apply(this, arguments); };`);
    }
  } else {
    throw new Error(`cannot defer ${module.file}: its export is neither a function nor an object of functions`);
  }
  return `${lines.join('\n')}\n`;
}

/** Replaces each deferred module by its forwarder; the real module stays outside the bundle, required at run time. */
function deferPlugin(modules: readonly DeferredModule[]): Plugin {
  return {
    name: 'strata-defer',
    setup(build) {
      const escape = (f: string): string => f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const byFile = new Map(modules.map((module) => [module.file, module]));
      build.onLoad({ filter: new RegExp(`^(${modules.map((module) => escape(module.file)).join('|')})$`) }, (args) => ({
        loader: 'js',
        contents: forwarder(byFile.get(args.path) as DeferredModule),
      }));
      build.onResolve({ filter: /\?real$/ }, (args) => ({ path: args.path.slice(0, -'?real'.length), external: true }));
    },
  };
}

export interface BundleStrataOptions {
  /** The module to bundle (TypeScript sources are read through the `@strata/source` condition). */
  entry: string;
  outfile: string;
  /**
   * `cjs` for a program loaded by the code-cache launcher (V8 caches a script, not an ES module);
   * `esm` for a plain `node bundle.mjs`.
   * @default "cjs"
   */
  format?: 'esm' | 'cjs' | undefined;
  /**
   * Bundle the ssh and BuildKit modules as lazy forwarders (see the module comment).
   * @default true
   */
  defer?: boolean | undefined;
}

/** One minified file holding `entry` and everything it imports (except the deferred modules' real code). */
export async function bundleStrata(options: BundleStrataOptions): Promise<string> {
  const format = options.format ?? 'cjs';
  await esbuild({
    entryPoints: [options.entry],
    outfile: options.outfile,
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    conditions: ['@strata/source'],
    // V8 compiles a minified file measurably faster at start-up (names shortened, whitespace gone);
    // behaviour is the same.
    minify: true,
    // ssh2's optional native parts (dockerode → docker-modem → ssh2), required inside try/catch.
    external: ['cpu-features', '*.node'],
    plugins: options.defer === false ? [] : [deferPlugin(deferred())],
    // The CommonJS dependencies expect require/__dirname, which an ES module lacks.
    banner:
      format === 'esm'
        ? {
            js:
              "import { createRequire as __strataRequire } from 'node:module'; import { fileURLToPath as __strataPath } from 'node:url'; " +
              "import { dirname as __strataDir } from 'node:path'; const require = __strataRequire(import.meta.url); " +
              'const __filename = __strataPath(import.meta.url); const __dirname = __strataDir(__filename);',
          }
        : {},
    logLevel: 'error',
  });
  return options.outfile;
}

/**
 * The launcher of a program bundle: a small CommonJS file that loads `programFile` (a path relative to
 * the launcher) with the V8 code cache and calls its exported `run()` (src/launcher/launch.ts).
 */
export async function bundleLauncher(outfile: string, programFile: string): Promise<string> {
  const relative = path.relative(path.dirname(outfile), programFile);
  await esbuild({
    stdin: {
      contents:
        "import path from 'node:path';\nimport { launch } from './launch.ts';\n" +
        `launch(path.join(__dirname, ${JSON.stringify(relative)})).catch((error) => { console.error(error); process.exitCode = 1; });\n`,
      resolveDir: path.join(cliDir, 'src/launcher'),
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'error',
  });
  return outfile;
}

/** Writes `strata-main.cjs` and its launcher `strata.cjs` into `outDir`; returns the launcher's path. */
export async function bundleCli(outDir: string = path.join(cliDir, 'dist')): Promise<string> {
  const program = await bundleStrata({ entry: path.join(cliDir, 'src/launcher/process.ts'), outfile: path.join(outDir, 'strata-main.cjs') });
  return bundleLauncher(path.join(outDir, 'strata.cjs'), program);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const launcher = await bundleCli(process.argv[2]);
  console.log(`bundled: ${path.relative(process.cwd(), launcher)} (run: node ${path.relative(process.cwd(), launcher)} --help)`);
}
