/**
 * dependencies* stages: import/dependency inputs (hand-derived vectors) and the import source checksum
 * command, run for real in /bin/sh against files in a temp dir.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Import } from '@strata/config';
import {
  dependenciesStageInputs,
  hashInputs,
  importChecksumLabel,
  importId,
  importSourceChecksumCommand,
} from '../src/digest/index.js';

function anImport(overrides: Partial<Import> = {}): Import {
  return { image: 'builder', via: 'image', add: '/out', to: '/app', includePaths: [], excludePaths: [], stage: { after: 'install' }, ...overrides };
}

describe('dependencies stage inputs', () => {
  it('hashes source checksum, to, group, owner per import, then each dependency and its imports', () => {
    const inputs = dependenciesStageInputs(
      [{ config: anImport({ to: '/to', group: 'g' }), facts: { sourceChecksum: 'c1' } }],
      [{ config: { image: 'dep', stage: { after: 'install' }, imports: [{ type: 'ImageName', targetEnv: 'X' }] }, facts: { imageName: 'repo:tag' } }],
    );
    // I=$(s256 'Type:::ImageName:::TargetEnv:::X'); s256 "c1:::/to:::g::::::Dependency:::repo:tag:::DependencyImport:::$I"
    expect(hashInputs(inputs)).toBe('0e56d7815340761f6d656f66a1698d87825c448886e5e632baf273d4032572d4');
  });

  it('identifies imports like werf getImportID', () => {
    // s256 'ImageName:::builder:::ArtifactName::::::Stage::::::After:::install:::Before::::::Add:::/out:::To:::/app:::Group::::::Owner::::::IncludePaths:::bin///lib:::ExcludePaths:::'
    const entry = anImport({ includePaths: ['bin', 'lib'] });
    expect(importId(entry)).toBe('5a284c5b5dcb0bcf74cad7526ff659e8657b57b3dd882d9434885cfd8ed70e14');
    expect(importChecksumLabel(entry)).toBe('werf-import-checksum-5a284c5b5dcb0bcf74cad7526ff659e8657b57b3dd882d9434885cfd8ed70e14');
  });
});

describe('importSourceChecksumCommand', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'strata-import-'));
    const files: Record<string, string> = {
      'out/bin/app': 'binary',
      'out/bin/tool': 'tool',
      'out/lib/a.so': 'lib a',
      'out/lib/cache/x.tmp': 'temp',
      'out/README': 'readme',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** The same checksum computed in Node: md5 over the `md5sum` lines of the matching files, sorted. */
  function expected(prefix: string, keep: (path: string) => boolean): string {
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = join(dir, name);
        return statSync(full).isDirectory() ? walk(full) : [full];
      });
    const lines = walk(join(root, prefix))
      .filter((path) => keep(path.slice(root.length)))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((path) => `${createHash('md5').update(readFileSync(path)).digest('hex')}  ${path}\n`)
      .join('');
    return createHash('md5').update(lines).digest('hex');
  }

  function run(entry: Import): string {
    // the command uses absolute paths; run it with `add` re-rooted into the temp dir
    const command = importSourceChecksumCommand({ ...entry, add: join(root, entry.add) });
    return execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }).trim();
  }

  it('checksums every regular file under add', () => {
    expect(run(anImport({ add: '/out' }))).toBe(expected('out', () => true));
  });

  it('applies include and exclude globs', () => {
    const entry = anImport({ add: '/out', includePaths: ['bin/', 'lib/**'], excludePaths: ['lib/cache'] });
    const result = run(entry);
    expect(result).toBe(expected('out', (path) => (path.startsWith('/out/bin/') || path.startsWith('/out/lib/')) && !path.startsWith('/out/lib/cache/')));
    expect(result).not.toBe(run(anImport({ add: '/out' })));
  });
});
