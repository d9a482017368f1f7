import { describe, expect, it } from 'vitest';
import { CODE_CACHE_FORMAT, codeCacheKey, decodeCodeCache, encodeCodeCache } from './code-cache.ts';

const SHA = 'a'.repeat(64);
const key = codeCacheKey(SHA, 1234);
const data = Buffer.from([1, 2, 3, 10, 0, 255]); // a newline byte inside the data too

describe('the code cache file', () => {
  it('gives back its data for the script and the V8 it was made for', () => {
    expect(decodeCodeCache(encodeCodeCache(key, data), codeCacheKey(SHA, 1234))).toEqual({ data });
  });

  it('is not used for another script, another V8, or another format', () => {
    const file = encodeCodeCache(key, data);
    expect(decodeCodeCache(file, codeCacheKey('b'.repeat(64), 1234))).toEqual({
      unused: 'the cache was made for another script',
    });
    expect(decodeCodeCache(file, codeCacheKey(SHA, 4321))).toEqual({
      unused: 'the cache was made by another V8 version or flags',
    });
    const older = Buffer.concat([Buffer.from(`${JSON.stringify({ ...key, format: 'imaging-code-cache/0' })}\n`), data]);
    expect(decodeCodeCache(older, key)).toEqual({ unused: `the cache is not in format ${CODE_CACHE_FORMAT}` });
  });

  it('is not used when missing, headless, unreadable or empty', () => {
    expect(decodeCodeCache(undefined, key)).toEqual({ unused: 'no cache file' });
    expect(decodeCodeCache(Buffer.from('no newline at all'), key)).toEqual({ unused: 'the cache file has no header' });
    expect(decodeCodeCache(Buffer.from('{not json\nxx'), key)).toEqual({ unused: 'the cache header is not JSON' });
    expect(decodeCodeCache(Buffer.from('null\nxx'), key)).toEqual({
      unused: `the cache is not in format ${CODE_CACHE_FORMAT}`,
    });
    expect(decodeCodeCache(encodeCodeCache(key, Buffer.alloc(0)), key)).toEqual({ unused: 'the cache holds no data' });
  });
});
