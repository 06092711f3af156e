/**
 * The {@link ConfigSource} contract suite (`@strata/config/testing`). Every adapter runs
 * {@link describeConfigSourceContract} from its own test file, over real files it creates.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigCommit, ConfigSource } from './source.js';

/** The files every contract run starts from: project-relative path → UTF-8 content. */
export const CONTRACT_FILES: Readonly<Record<string, string>> = {
  'werf.yaml': 'project: contract\nconfigVersion: 1\n',
  '.werf/defines/base.tmpl': '{{ define "base" }}alpine{{ end }}\n',
  '.werf/top.tmpl': '{{ define "top" }}x{{ end }}\n',
  'images/a/werf.inc.yaml': 'image: a\n',
  'images/b/werf.inc.yaml': 'image: b # é 中 🚀\n',
  'images/b/src/deep/file.txt': 'deep\n',
  'empty.txt': '',
};

/** A source over {@link CONTRACT_FILES}, made by the adapter's test. */
export interface ContractSubject {
  source: ConfigSource;
  /** The commit the source must report (`undefined` for none). */
  commit: ConfigCommit | undefined;
  /** Removes what the subject created. */
  dispose(): Promise<void>;
}

/**
 * Declares the contract tests for one adapter. `create` builds a fresh subject over `files` for
 * each test. (What a directory read as a file gives is adapter-defined and not covered.)
 */
export function describeConfigSourceContract(name: string, create: (files: Readonly<Record<string, string>>) => Promise<ContractSubject>): void {
  describe(`ConfigSource contract: ${name}`, () => {
    const withSubject = (test: (subject: ContractSubject) => Promise<void>) => async () => {
      const subject = await create(CONTRACT_FILES);
      try {
        await test(subject);
      } finally {
        await subject.dispose();
      }
    };

    it(
      'findFile returns the exact text of each file, and undefined for a missing path',
      withSubject(async ({ source }) => {
        for (const [path, content] of Object.entries(CONTRACT_FILES)) expect(await source.findFile(path)).toBe(content);
        expect(await source.findFile('missing.yaml')).toBeUndefined();
        expect(await source.findFile('images/a/missing/werf.inc.yaml')).toBeUndefined();
        expect(await source.findFile('werf.yaml/below')).toBeUndefined();
      }),
    );

    it(
      'listFiles lists regular files at or below a directory, sorted; an absent directory lists nothing',
      withSubject(async ({ source }) => {
        const all = Object.keys(CONTRACT_FILES).sort();
        expect(await source.listFiles('')).toEqual(all);
        expect(await source.listFiles('.werf')).toEqual(['.werf/defines/base.tmpl', '.werf/top.tmpl']);
        expect(await source.listFiles('.werf/')).toEqual(['.werf/defines/base.tmpl', '.werf/top.tmpl']);
        expect(await source.listFiles('images/b')).toEqual(['images/b/src/deep/file.txt', 'images/b/werf.inc.yaml']);
        expect(await source.listFiles('images/c')).toEqual([]);
        expect(await source.listFiles('image')).toEqual([]); // a prefix of a name is not a directory
      }),
    );

    it(
      'findCommit reports the snapshot commit (or none)',
      withSubject(async ({ source, commit }) => {
        expect(await source.findCommit()).toEqual(commit);
      }),
    );

    it(
      'answers concurrent calls like sequential ones (idempotent reads)',
      withSubject(async ({ source }) => {
        const paths = [...Object.keys(CONTRACT_FILES), 'missing.txt'];
        const sequential: (string | undefined)[] = [];
        for (const path of paths) sequential.push(await source.findFile(path));
        const concurrent = await Promise.all([...paths, ...paths].map((path) => source.findFile(path)));
        expect(concurrent).toEqual([...sequential, ...sequential]);
        const listings = await Promise.all([source.listFiles(''), source.listFiles(''), source.listFiles('images')]);
        expect(listings[0]).toEqual(listings[1]);
        expect(listings[2]).toEqual(['images/a/werf.inc.yaml', 'images/b/src/deep/file.txt', 'images/b/werf.inc.yaml']);
      }),
    );

    it(
      'rejects with the abort reason when the signal is aborted',
      withSubject(async ({ source }) => {
        const reason = new Error('stop');
        const signal = AbortSignal.abort(reason);
        await expect(source.findFile('werf.yaml', { signal })).rejects.toBe(reason);
        await expect(source.listFiles('', { signal })).rejects.toBe(reason);
        await expect(source.findCommit({ signal })).rejects.toBe(reason);
      }),
    );
  });
}
