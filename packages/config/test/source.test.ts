import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WorkingTreeConfigSource } from '@strata/config';
import { describeConfigSourceContract } from '@strata/config/testing';

async function tree(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-config-source-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describeConfigSourceContract('WorkingTreeConfigSource', async (files) => {
  const dir = await tree(files);
  await mkdir(join(dir, '.git', 'objects'), { recursive: true }); // never listed
  await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return { source: new WorkingTreeConfigSource(dir), commit: undefined, dispose: () => rm(dir, { recursive: true, force: true }) };
});

describeConfigSourceContract('WorkingTreeConfigSource with a commit', async (files) => {
  const dir = await tree(files);
  const commit = { hash: 'c'.repeat(40), date: new Date('2024-01-02T03:04:05Z') };
  return { source: new WorkingTreeConfigSource(dir, { commit }), commit, dispose: () => rm(dir, { recursive: true, force: true }) };
});
