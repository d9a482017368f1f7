/**
 * The file format of a bundled service's V8 code cache (`dist/service.js.cache`): one JSON line that
 * says which script and which V8 the cache was made for, then V8's cached data. The cache is used only
 * when both match: V8 itself checks little of the source (its length), so the SHA-256 of the script is
 * what ties the cache to it; `v8.cachedDataVersionTag()` ties it to the V8 version and its flags.
 * Pure: the loader (service-loader.ts) reads the files and hashes, this decides.
 */

export const CODE_CACHE_FORMAT = 'imaging-code-cache/1';

/** The files of a bundled service's `dist/`: the script, and its cache. */
export const SERVICE_SCRIPT_FILE = 'service.js';
export const CODE_CACHE_FILE = 'service.js.cache';
/** Set (to a file) only by the build's training start: SIGUSR2 then writes the cache there. */
export const CODE_CACHE_TRAINING_ENV = 'IMAGING_CODE_CACHE_TRAINING';

/** What a cache must have been made for to be used. */
export interface CodeCacheKey {
  format: typeof CODE_CACHE_FORMAT;
  /** SHA-256 of the script's bytes, hex. */
  scriptSha256: string;
  /** `v8.cachedDataVersionTag()` of the V8 that made it. */
  v8Tag: number;
}

export function codeCacheKey(scriptSha256: string, v8Tag: number): CodeCacheKey {
  return { format: CODE_CACHE_FORMAT, scriptSha256, v8Tag };
}

/** The cache file's bytes: the key as one JSON line, then the data. */
export function encodeCodeCache(key: CodeCacheKey, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(key)}\n`), data]);
}

/** The cached data to compile with, or why there is none to use (the script is then compiled without). */
export type CodeCacheLookup = { data: Buffer } | { unused: string };

/** The data in `file` (its bytes, undefined when there is none) if it was made for `key`. */
export function decodeCodeCache(file: Buffer | undefined, key: CodeCacheKey): CodeCacheLookup {
  if (!file) return { unused: 'no cache file' };
  const newline = file.indexOf(0x0a);
  if (newline < 0) return { unused: 'the cache file has no header' };
  let stored: Partial<CodeCacheKey>;
  try {
    stored = JSON.parse(file.subarray(0, newline).toString('utf8'));
  } catch {
    return { unused: 'the cache header is not JSON' };
  }
  if (stored?.format !== key.format) return { unused: `the cache is not in format ${key.format}` };
  if (stored.scriptSha256 !== key.scriptSha256) return { unused: 'the cache was made for another script' };
  if (stored.v8Tag !== key.v8Tag) return { unused: 'the cache was made by another V8 version or flags' };
  const data = file.subarray(newline + 1);
  if (data.length === 0) return { unused: 'the cache holds no data' };
  return { data };
}
