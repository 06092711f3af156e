/**
 * noop.ts bundled by esbuild into one ES module: what a published, compiled Strata loads, without tsx
 * compiling TypeScript at start-up.
 *
 * Three dockerode modules whose dependencies are heavy and that a unix-socket, classic-builder Strata
 * never runs are bundled as lazy forwarders instead of their code: `docker-modem/lib/ssh.js` (ssh2, for
 * `ssh://` engine connections; docker-modem requires it at load time), `dockerode/lib/session.js`
 * (@grpc/grpc-js, @grpc/proto-loader, protobufjs: BuildKit sessions; required at load time) and
 * `dockerode/lib/buildkit.js` (protobufjs: BuildKit progress). A forwarder exports the same functions
 * (read from the real module when bundling); the first call requires the real module from the
 * installed packages and calls it, so `ssh://` engines and BuildKit still work, only later. Nothing else
 * is left out; a compiled Strata CLI can ship the same forwarders. The bundle is minified, as a
 * published CLI is.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild, type Plugin } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Absolute paths of the deferred modules as installed (docker-modem resolved from dockerode, as Node does). */
export function deferredModules(): string[] {
  const dockerodeDir = path.dirname(createRequire(path.join(here, '../../packages/docker/package.json')).resolve('dockerode/package.json'));
  const modemDir = path.dirname(createRequire(path.join(dockerodeDir, 'package.json')).resolve('docker-modem/package.json'));
  return [path.join(dockerodeDir, 'lib/session.js'), path.join(dockerodeDir, 'lib/buildkit.js'), path.join(modemDir, 'lib/ssh.js')];
}

/**
 * The forwarder of one CommonJS module: its export is a function or an object of functions (the
 * deferred modules' shapes; anything else fails the bundle rather than change behaviour).
 */
function forwarder(file: string): string {
  const exported: unknown = createRequire(import.meta.url)(file);
  // A literal require, so the bundler resolves it (to the external real file) instead of leaving `?real`.
  const lines = [`let __strataLoaded; const __strataReal = () => (__strataLoaded ??= require(${JSON.stringify(`${file}?real`)}));`];
  const real = '__strataReal()';
  if (typeof exported === 'function') {
    lines.push(`module.exports = function () { return ${real}.apply(this, arguments); };`);
  } else if (typeof exported === 'object' && exported !== null && Object.values(exported).every((v) => typeof v === 'function')) {
    for (const key of Object.keys(exported)) {
      lines.push(`exports[${JSON.stringify(key)}] = function () { return ${real}[${JSON.stringify(key)}].apply(this, arguments); };`);
    }
  } else {
    throw new Error(`cannot defer ${file}: its export is neither a function nor an object of functions`);
  }
  return `${lines.join('\n')}\n`;
}

/** Replaces each deferred module by its forwarder; the real file stays outside the bundle, required from disk. */
function deferPlugin(files: readonly string[]): Plugin {
  return {
    name: 'strata-defer',
    setup(build) {
      const escape = (f: string): string => f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      build.onLoad({ filter: new RegExp(`^(${files.map(escape).join('|')})$`) }, (args) => ({ loader: 'js', contents: forwarder(args.path) }));
      build.onResolve({ filter: /\?real$/ }, (args) => ({ path: args.path.slice(0, -'?real'.length), external: true }));
    },
  };
}

export interface BundleOptions {
  /**
   * Bundle the ssh and BuildKit modules as lazy forwarders (see the module comment).
   * @default true
   */
  defer?: boolean | undefined;

  /** The module to bundle. @default bench/docker/noop.ts */
  entry?: string | undefined;
}

export async function bundleNoop(outfile: string, options: BundleOptions = {}): Promise<string> {
  await esbuild({
    entryPoints: [options.entry ?? path.join(here, 'noop.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@strata/source'],
    // As a published CLI ships: V8 compiles a minified module measurably faster at start-up (names
    // shortened, whitespace gone: 1.4 MB → 0.7 MB); behaviour is the same.
    minify: true,
    // ssh2's optional native parts (dockerode → docker-modem → ssh2), required inside try/catch.
    external: ['cpu-features', '*.node'],
    plugins: options.defer === false ? [] : [deferPlugin(deferredModules())],
    // The CommonJS dependencies expect require/__dirname, which an ES module lacks.
    banner: {
      js:
        "import { createRequire as __strataRequire } from 'node:module'; import { fileURLToPath as __strataPath } from 'node:url'; " +
        "import { dirname as __strataDir } from 'node:path'; const require = __strataRequire(import.meta.url); " +
        'const __filename = __strataPath(import.meta.url); const __dirname = __strataDir(__filename);',
    },
    logLevel: 'error',
  });
  return outfile;
}
