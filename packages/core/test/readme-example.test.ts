/**
 * The README's embedding example, run as written: its first `ts` block is extracted, pointed at a temp
 * project (the only substitution besides resolving the `@strata/*` imports to their sources), and imported.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it, vi } from 'vitest';
import type { BuildResult } from '@strata/core';
import { ScratchRepo } from './support/git-repo.js';

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sources: Record<string, string> = {
  '@strata/config': path.join(packages, 'config/src/index.ts'),
  '@strata/git': path.join(packages, 'git/src/index.ts'),
  '@strata/core': path.join(packages, 'core/src/index.ts'),
  '@strata/core/testing': path.join(packages, 'core/src/testing.ts'),
};

let project: ScratchRepo | undefined;
let scratch: string | undefined;
afterEach(() => {
  project?.dispose();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  vi.restoreAllMocks();
});

function embeddingExample(): string {
  const readme = readFileSync(path.join(packages, 'core/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embedding the engine'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('the README has no embedding example');
  return block;
}

it('embeds the engine as the README shows', async () => {
  project = new ScratchRepo();
  project.write('werf.yaml', 'project: readme\nconfigVersion: 1\n---\nimage: app\nfrom: alpine:3.18\ngit:\n- add: /\n  to: /app\n');
  project.commit('init');

  const example = embeddingExample();
  expect(example).toContain("'path/to/project'");
  let code = example.replace("'path/to/project'", JSON.stringify(project.root));
  code = code.replace(/from '(@strata\/[a-z/]+)'/g, (whole, name: string) => {
    const source = sources[name];
    if (!source) throw new Error(`the README imports ${name}, unknown to this test`);
    return `from ${JSON.stringify(source)}`;
  });
  scratch = mkdtempSync(path.join(tmpdir(), 'strata-core-readme-'));
  const file = path.join(scratch, 'example.ts');
  writeFileSync(file, `${code}\nexport { result };\n`);

  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  const { result } = (await import(/* @vite-ignore */ file)) as { result: BuildResult };

  expect(Object.keys(result.report.Images)).toEqual(['app']);
  expect(result.report.Images.app?.Stages.map((s) => `${s.Name}:${s.Status}`)).toEqual(['from:built', 'gitArchive:built']);
  expect(printed[0]).toContain('Concurrent builds plan');
  expect(printed).toContain(`app/gitArchive: built ${result.report.Images.app?.Stages[1]?.StageID}`);
  expect(JSON.parse(printed.at(-1) ?? '')).toEqual(result.report);
});
