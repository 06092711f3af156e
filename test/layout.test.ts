/**
 * The architecture, checked (STYLE rule 6): dependencies point down, adapters know only the ports in
 * `core`, and only the CLI — the composition root — wires adapters together. The check reads every
 * package's `package.json` AND every `@strata/*` import in its sources, so an undeclared import cannot
 * sneak around the rule.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const packagesDir = path.join(root, 'packages');

/** For each package, the sibling packages it may depend on. A package missing here is an error. */
export const allowedDependencies: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  gotemplate: ['errors'],
  config: ['errors', 'gotemplate'],
  git: ['errors'],
  core: ['errors', 'config', 'git'],
  // Adapters: ports from core and git (and the error base) only; never each other, never the CLI.
  // The Docker executor reads build contexts and git archives through the GitRepository port.
  docker: ['errors', 'core', 'git'],
  registry: ['errors', 'core'],
  locks: ['errors', 'core'],
  modules: ['errors', 'core', 'registry'],
  cli: ['errors', 'config', 'gotemplate', 'git', 'core', 'docker', 'registry', 'locks', 'modules'],
};

interface PackageInfo {
  dir: string;
  name: string;
  declared: string[];
  imported: Map<string, string>;
}

function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist') return [];
    return statSync(full).isDirectory() ? listFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"]@strata\/([a-z0-9-]+)(?:\/[^'"]*)?['"]/g;

function readPackages(): PackageInfo[] {
  return readdirSync(packagesDir)
    .filter((dir) => statSync(path.join(packagesDir, dir)).isDirectory())
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(path.join(packagesDir, dir, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
      const declared = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })
        .filter((dependency) => dependency.startsWith('@strata/'))
        .map((dependency) => dependency.slice('@strata/'.length));
      const imported = new Map<string, string>();
      for (const file of listFiles(path.join(packagesDir, dir, 'src'))) {
        for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
          const target = match[1] as string;
          if (target !== dir && !imported.has(target)) imported.set(target, path.relative(root, file));
        }
      }
      return { dir, name: manifest.name, declared, imported };
    });
}

/** Returns every forbidden edge as a readable sentence (empty when the layout holds). */
export function layoutViolations(packages: readonly PackageInfo[]): string[] {
  const violations: string[] = [];
  for (const pkg of packages) {
    if (pkg.name !== `@strata/${pkg.dir}`) violations.push(`packages/${pkg.dir} is named ${pkg.name}, expected @strata/${pkg.dir}`);
    const allowed = allowedDependencies[pkg.dir];
    if (!allowed) {
      violations.push(`packages/${pkg.dir} has no entry in the layout rules (test/layout.test.ts)`);
      continue;
    }
    for (const dependency of pkg.declared) {
      if (!allowed.includes(dependency)) violations.push(`@strata/${pkg.dir} declares a dependency on @strata/${dependency}, which the layout forbids`);
    }
    for (const [dependency, file] of pkg.imported) {
      if (!allowed.includes(dependency)) violations.push(`${file} imports @strata/${dependency}, which the layout forbids for @strata/${pkg.dir}`);
      else if (!pkg.declared.includes(dependency)) violations.push(`${file} imports @strata/${dependency}, not declared in packages/${pkg.dir}/package.json`);
    }
  }
  return violations;
}

describe('package layout', () => {
  const packages = readPackages();

  it('finds the packages', () => {
    expect(packages.map((pkg) => pkg.dir)).toContain('errors');
    expect(packages.length).toBeGreaterThan(2);
  });

  it('has no forbidden dependency edge', () => {
    expect(layoutViolations(packages)).toEqual([]);
  });

  it('nothing depends on the CLI', () => {
    for (const rules of Object.values(allowedDependencies)) expect(rules).not.toContain('cli');
  });

  it('flags an adapter that depends on another adapter or the CLI', () => {
    const violations = layoutViolations([
      { dir: 'docker', name: '@strata/docker', declared: ['core', 'registry'], imported: new Map([['cli', 'packages/docker/src/x.ts']]) },
    ]);
    expect(violations).toHaveLength(2);
    expect(violations.join('\n')).toMatch(/@strata\/registry/);
    expect(violations.join('\n')).toMatch(/imports @strata\/cli/);
  });

  it('flags an undeclared import and an unknown package', () => {
    const violations = layoutViolations([
      { dir: 'core', name: '@strata/core', declared: [], imported: new Map([['git', 'packages/core/src/y.ts']]) },
      { dir: 'mystery', name: '@strata/mystery', declared: [], imported: new Map() },
    ]);
    expect(violations).toEqual([
      'packages/core/src/y.ts imports @strata/git, not declared in packages/core/package.json',
      'packages/mystery has no entry in the layout rules (test/layout.test.ts)',
    ]);
  });
});
