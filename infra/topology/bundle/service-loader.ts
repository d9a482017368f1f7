/**
 * `dist/main.mjs` of a bundled service: compiles the service (`dist/service.js`, see service-script.ts)
 * with the V8 code cache the build made beside it (`dist/service.js.cache`), then runs it. The cache
 * holds the code V8 compiled during a training start at build time (bundle-services.ts), the functions
 * start-up runs included, so a start does not parse and compile them again. It is used only when it
 * was made for this very script and this V8 (code-cache.ts); otherwise, or when V8 rejects it, the
 * script is compiled from its source as any module would be, and one line on stderr says why.
 *
 * Training (the build only): with IMAGING_CODE_CACHE_TRAINING set to a file, SIGUSR2 writes the cache
 * of what has been compiled so far to that file.
 *
 * Node's modules are taken with `process.getBuiltinModule`: an `import` would build their ES module
 * facades, and `node:fs`'s loads its streams.
 */
import {
  CODE_CACHE_FILE,
  CODE_CACHE_TRAINING_ENV,
  codeCacheKey,
  decodeCodeCache,
  encodeCodeCache,
  SERVICE_SCRIPT_FILE,
} from './code-cache.ts';

const { readFileSync, renameSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { hash } = process.getBuiltinModule('node:crypto');
const { join } = process.getBuiltinModule('node:path');
const { pathToFileURL } = process.getBuiltinModule('node:url');
const { cachedDataVersionTag } = process.getBuiltinModule('node:v8');
const vm = process.getBuiltinModule('node:vm');

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function warn(message: string, reason: string): void {
  process.stderr.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), message, reason })}\n`);
}

const scriptFile = join(import.meta.dirname, SERVICE_SCRIPT_FILE);
const source = readFileSync(scriptFile);
const key = codeCacheKey(hash('sha256', source), cachedDataVersionTag());
const training = process.env[CODE_CACHE_TRAINING_ENV];
const cache = training
  ? { unused: 'training' }
  : decodeCodeCache(readIfPresent(join(import.meta.dirname, CODE_CACHE_FILE)), key);

const script = new vm.Script(source.toString('utf8'), {
  filename: scriptFile,
  lineOffset: -1, // the wrapper's first line: stack traces give the bundle's own line numbers
  ...('data' in cache ? { cachedData: cache.data } : {}),
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if ('unused' in cache && !training) warn('code cache not used', cache.unused);
else if (script.cachedDataRejected) warn('code cache not used', 'V8 rejected it');

if (training) {
  // Written aside and renamed, so the build never reads half a file.
  process.on('SIGUSR2', () => {
    writeFileSync(`${training}.tmp`, encodeCodeCache(key, script.createCachedData()));
    renameSync(`${training}.tmp`, training);
  });
}

const run = script.runInThisContext() as (importMeta: Record<string, unknown>) => Promise<void>;
await run({
  url: pathToFileURL(scriptFile).href,
  dirname: import.meta.dirname,
  filename: scriptFile,
  // This module lies in the script's directory, so it resolves as the script would.
  resolve: (specifier: string) => import.meta.resolve(specifier),
  main: import.meta.main,
});
