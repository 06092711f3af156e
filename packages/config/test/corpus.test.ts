import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ParseConfigOptions } from '@strata/config';

const CORPUS = join(import.meta.dirname, 'corpus');
const cases = readdirSync(CORPUS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('corpus of realistic werf.yaml files', () => {
  it('has at least 20 configs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of cases) {
    it(`${name} parses without problems to the reviewed resolved config`, async () => {
      const dir = join(CORPUS, name);
      const source = readFileSync(join(dir, 'werf.yaml'), 'utf8');
      const optionsFile = join(dir, 'options.json');
      const options = existsSync(optionsFile) ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as Partial<ParseConfigOptions>) : {};
      const result = parseConfig(source, { path: 'werf.yaml', ...options });
      if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}:${p.column} ${p.code} ${p.message}`).join('\n'));
      expect(result.warnings).toEqual([]);
      await expect(`${JSON.stringify(result.config, null, 2)}\n`).toMatchFileSnapshot(join(dir, 'expected.json'));
    });
  }
});
