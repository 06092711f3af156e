import { describe, expect, it } from 'vitest';
import { createStageLock, describeRedisLocation, FileStageLock, LockError, parseRedisUrl } from '../src/index.js';

describe('parseRedisUrl', () => {
  it('fills in the default port and database', () => {
    expect(parseRedisUrl('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379, db: 0, username: undefined, password: undefined });
  });

  it('reads port, database and credentials', () => {
    expect(parseRedisUrl('redis://al%40ice:p%3Ass@localhost:6380/5')).toEqual({
      host: 'localhost',
      port: 6380,
      db: 5,
      username: 'al@ice',
      password: 'p:ss',
    });
    expect(parseRedisUrl('redis://:pw@[::1]:7000/').host).toBe('::1');
  });

  it('describes a location without credentials', () => {
    expect(describeRedisLocation(parseRedisUrl('redis://u:secret@[::1]:7000/2'))).toBe('redis://[::1]:7000/2');
  });

  it.each([
    ['http://127.0.0.1:6379', 'unsupported scheme'],
    ['redis://127.0.0.1:6379/db', 'database must be a number'],
    ['redis://127.0.0.1:6379/0?x=1', 'query strings'],
    ['redis://', 'no host'],
    ['not a url', 'not a URL'],
  ])('rejects %s', (url, why) => {
    expect(() => parseRedisUrl(url)).toThrow(why);
    expect(() => parseRedisUrl(url)).toThrow(expect.objectContaining({ code: 'LOCK_INVALID_URL' }) as Error);
  });

  it('never puts the password in the error', () => {
    let error: unknown;
    try {
      parseRedisUrl('redis://user:hunter2@127.0.0.1:6379/zero');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LockError);
    expect(JSON.stringify([(error as LockError).message, (error as LockError).data])).not.toContain('hunter2');
  });
});

describe('createStageLock', () => {
  it('makes a file lock for :local without touching the disk', async () => {
    const lock = await createStageLock(':local', { file: { dir: '/nonexistent/strata-locks' } });
    expect(lock).toBeInstanceOf(FileStageLock);
    expect((lock as FileStageLock).dir).toBe('/nonexistent/strata-locks');
  });

  it('rejects other values with LOCK_INVALID_URL and redacts credentials', async () => {
    await expect(createStageLock('local')).rejects.toMatchObject({ code: 'LOCK_INVALID_URL' });
    const error = await createStageLock('etcd://u:topsecret@127.0.0.1:2379').catch((caught: unknown) => caught);
    expect((error as LockError).code).toBe('LOCK_INVALID_URL');
    expect((error as LockError).message).not.toContain('topsecret');
  });
});
