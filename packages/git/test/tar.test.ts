import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TarWriter } from '../src/tar.js';
import { readTar } from '../src/testing.js';

const common = { mtimeMs: Date.parse('2024-02-03T04:05:06Z'), uid: 1000, gid: 1001, uname: 'app', gname: 'staff' };
const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
const veryLong = `${'x'.repeat(120)}/${'y'.repeat(120)}/${'z'.repeat(120)}.txt`;
const big = Buffer.alloc(3 << 20, 7);

function build(): Buffer {
  const tar = new TarWriter(common);
  tar.add('directory', 'dir/', 0o755);
  tar.add('file', 'dir/exec.sh', 0o755, Buffer.from('#!/bin/sh\n'));
  tar.add('file', `${longDir}/file.txt`, 0o644, Buffer.from('prefix split\n'));
  tar.add('file', veryLong, 0o644, Buffer.from('pax path\n'));
  tar.add('file', 'dir/ünïcødé.txt', 0o644, Buffer.from('utf8\n'));
  tar.add('file', 'dir/empty', 0o644, Buffer.alloc(0));
  tar.add('file', 'dir/big.bin', 0o644, big);
  tar.add('symlink', 'dir/long-link', 0o777, undefined, `../${'t'.repeat(150)}`);
  return Buffer.concat([...tar.take(0), ...tar.finish()]);
}

describe('TarWriter', () => {
  it('writes archives GNU tar extracts with modes, owners, long names and link targets', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-tar-'));
    try {
      writeFileSync(path.join(dir, 'a.tar'), build());
      const listing = execFileSync('tar', ['-tvf', 'a.tar', '--numeric-owner'], { cwd: dir, encoding: 'utf8' });
      expect(listing).toContain('1000/1001');
      execFileSync('tar', ['-xf', 'a.tar', '-C', dir], { cwd: dir });
      expect(readFileSync(path.join(dir, longDir, 'file.txt'), 'utf8')).toBe('prefix split\n');
      expect(readFileSync(path.join(dir, veryLong), 'utf8')).toBe('pax path\n');
      expect(readFileSync(path.join(dir, 'dir/ünïcødé.txt'), 'utf8')).toBe('utf8\n');
      expect(readFileSync(path.join(dir, 'dir/big.bin')).equals(big)).toBe(true);
      expect(statSync(path.join(dir, 'dir/exec.sh')).mode & 0o777).toBe(0o755);
      expect(readlinkSync(path.join(dir, 'dir/long-link'))).toBe(`../${'t'.repeat(150)}`);
      expect(statSync(path.join(dir, 'dir/empty')).size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is read back entry by entry by tar-stream', async () => {
    const { items } = await readTar(Readable.from([build()]));
    expect(items.map((i) => i.name)).toEqual([
      'dir/',
      'dir/exec.sh',
      `${longDir}/file.txt`,
      veryLong,
      'dir/ünïcødé.txt',
      'dir/empty',
      'dir/big.bin',
      'dir/long-link',
    ]);
    expect(items.every((i) => i.uname === 'app' && i.gname === 'staff' && i.mtimeMs === common.mtimeMs)).toBe(true);
  });
});
