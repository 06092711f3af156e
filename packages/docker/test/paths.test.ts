import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  ancestors,
  buildScript,
  createPathSelection,
  deletionLines,
  readFailureMarker,
  resolveId,
  shellQuote,
  tarPath,
} from '../src/paths.js';

describe('path selection (werf include/exclude)', () => {
  it('keeps everything without globs', () => {
    const s = createPathSelection([], []);
    expect(s.keeps('a/b/c')).toBe(true);
  });

  it('a glob naming a directory takes its subtree, in every spelling', () => {
    for (const glob of ['src', 'src/', 'src/*', 'src/**', './src']) {
      const s = createPathSelection([glob], []);
      expect(s.keeps('src/a/b.txt'), glob).toBe(true);
      expect(s.keeps('srcx/a'), glob).toBe(false);
      expect(s.keeps('other.txt'), glob).toBe(false);
    }
  });

  it('exclude wins over include, and globs match within a segment', () => {
    const s = createPathSelection(['**/*.txt', 'bin'], ['secret', '**/tmp']);
    expect(s.keeps('a.txt')).toBe(true);
    expect(s.keeps('d/e/f.txt')).toBe(true);
    expect(s.keeps('d/e/f.md')).toBe(false);
    expect(s.keeps('bin/tool')).toBe(true);
    expect(s.keeps('secret/a.txt')).toBe(false);
    expect(s.keeps('x/tmp/a.txt')).toBe(false);
    expect(s.keeps('.hidden.txt')).toBe(true);
  });
});

describe('paths', () => {
  it('normalises absolute paths to tar names', () => {
    expect(tarPath('/')).toBe('');
    expect(tarPath('/app/')).toBe('app');
    expect(tarPath('app//x/../y')).toBe('app/y');
  });

  it('lists ancestors outermost first', () => {
    expect(ancestors('a/b/c')).toEqual(['a', 'a/b']);
    expect(ancestors('a')).toEqual([]);
  });
});

describe('build script', () => {
  it('quotes any word for sh', () => {
    const word = `it's "quoted" $HOME \`x\` \\ new\nline`;
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(word)}`]).toString()).toBe(word);
  });

  it('runs commands in one shell and reports the failing step and exit code', () => {
    const script = buildScript(['true'], ['cd /tmp', 'echo "$PWD"', 'exit 7', 'echo never']);
    let output = '';
    let status = 0;
    try {
      execFileSync('sh', ['-ec', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const e = error as { status: number; stdout: Buffer; stderr: Buffer };
      status = e.status;
      output = `${e.stdout.toString()}${e.stderr.toString()}`;
    }
    expect(status).toBe(7);
    const marker = readFailureMarker(output.split('\n').filter(Boolean));
    expect(marker).toEqual({ step: 3, exitCode: 7, output: ['/tmp'] });
  });

  it('prints no marker on success', () => {
    const out = execFileSync('sh', ['-ec', buildScript([], ['echo ok'])], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    expect(readFailureMarker(out.split('\n').filter(Boolean))).toEqual({ step: undefined, exitCode: undefined, output: ['ok'] });
  });

  it('deletes paths, then the directories they leave empty up to the mapping root', () => {
    const lines = deletionLines(['app/a/b/c.txt', "app/it's"], 'app');
    expect(lines[0]).toBe(`rm -rf -- '/app/a/b/c.txt' '/app/it'\\''s'`);
    expect(lines.slice(1)).toEqual([`rmdir -- '/app/a/b' 2>/dev/null || :`, `rmdir -- '/app/a' 2>/dev/null || :`]);
    expect(deletionLines([], 'app')).toEqual([]);
  });
});

describe('owners', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n';
  it('resolves numbers as is and names from the table', () => {
    expect(resolveId(undefined, passwd, 'owner', 'img')).toBeUndefined();
    expect(resolveId('42', undefined, 'owner', 'img')).toBe(42);
    expect(resolveId('app', passwd, 'owner', 'img')).toBe(1001);
  });

  it('fails with DOCKER_UNKNOWN_OWNER naming the file', () => {
    expect(() => resolveId('ghost', passwd, 'owner', 'img')).toThrow(
      expect.objectContaining({ code: 'DOCKER_UNKNOWN_OWNER', message: expect.stringContaining('/etc/passwd') as unknown }),
    );
    expect(() => resolveId('ghost', undefined, 'group', 'img')).toThrow(
      expect.objectContaining({ code: 'DOCKER_UNKNOWN_OWNER', message: expect.stringContaining('/etc/group') as unknown }),
    );
  });
});
