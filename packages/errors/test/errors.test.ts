import { describe, expect, it } from 'vitest';
import { InternalError, StrataError, abortableSleep, invariant, isStrataError, redactCredentials } from '@strata/errors';

describe('StrataError', () => {
  it('carries code, hint, data and cause', () => {
    const cause = new Error('low level');
    const error = new StrataError('SOME_CODE', 'what failed', { hint: 'do this', data: { path: 'x' }, cause });
    expect(error.code).toBe('SOME_CODE');
    expect(error.hint).toBe('do this');
    expect(error.data).toEqual({ path: 'x' });
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('StrataError');
    expect(error.describe()).toBe('what failed (hint: do this)');
    expect(isStrataError(error, 'SOME_CODE')).toBe(true);
    expect(isStrataError(error, 'OTHER')).toBe(false);
  });

  it('redacts credentials in messages and hints', () => {
    const error = new StrataError('X', 'GET https://bob:s3cret@registry.local/v2/ failed', {
      hint: 'header Authorization: Bearer abc.def.ghi was rejected',
    });
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toContain('https://***@registry.local');
    expect(error.hint).not.toContain('abc.def.ghi');
  });

  it('invariant throws an InternalError asking for a report', () => {
    expect(() => invariant(false, 'broken')).toThrow(InternalError);
    try {
      invariant(0, 'broken');
    } catch (error) {
      expect(isStrataError(error, 'INTERNAL')).toBe(true);
      expect((error as InternalError).hint).toMatch(/report/);
    }
  });
});

describe('redactCredentials', () => {
  it.each([
    ['redis://:pw@127.0.0.1:6379', 'pw'],
    ['{"token":"tok123","expires_in":60}', 'tok123'],
    ['https://auth/token?service=r&access_token=zzz', 'zzz'],
    ['password=hunter2', 'hunter2'],
    ['Authorization: Basic dXNlcjpwYXNz', 'dXNlcjpwYXNz'],
  ])('hides the secret in %s', (text, secret) => {
    expect(redactCredentials(text)).not.toContain(secret);
  });

  it('leaves ordinary text alone', () => {
    expect(redactCredentials('image "backend" stage install failed')).toBe('image "backend" stage install failed');
  });
});

describe('abortableSleep', () => {
  it('resolves after the delay', async () => {
    const started = Date.now();
    await abortableSleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with the reason when aborted while waiting, and at once when already aborted', async () => {
    const controller = new AbortController();
    const waiting = abortableSleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(abortableSleep(10_000, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});
