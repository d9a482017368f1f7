import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidNhsNumber } from '@imaging/fhir';
import { PortInUseError } from '@imaging/service-process';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_SAFETY, demoTopology, prepareDataDir, runIds, serviceSpecs, storeLocations } from './world.ts';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-world-'));
  made.push(dir);
  return dir;
};

describe('the data dir', () => {
  it('is wiped when the demo made it, and refused when it did not', () => {
    const dir = tempDir();
    prepareDataDir(dir);
    writeFileSync(join(dir, 'logs', 'north.log'), 'old run');
    prepareDataDir(dir);
    expect(readdirSync(join(dir, 'logs'))).toEqual([]);

    const foreign = tempDir();
    writeFileSync(join(foreign, 'thesis.tex'), 'precious');
    expect(() => prepareDataDir(foreign)).toThrow(/not empty and was not made by the demo/);
    expect(existsSync(join(foreign, 'thesis.tex'))).toBe(true);
  });

  it('may be an empty directory made by someone else', () => {
    const dir = join(tempDir(), 'fresh');
    mkdirSync(dir);
    prepareDataDir(dir);
    expect(existsSync(join(dir, 'logs'))).toBe(true);
  });
});

describe('the services the demo runs', () => {
  it('puts the hub and the gateways on the chosen ports, each with its own store', () => {
    const options = { explore: false, scenario: true, portBase: 5000, dataDir: '/d', host: '127.0.0.1' };
    const specs = serviceSpecs(options, demoTopology(options));
    expect(Object.values(specs).map((s) => s.port)).toEqual([5000, 5101, 5102, 5103]);
    expect(specs.hub.env).toMatchObject({
      PORT: '5000',
      HUB_STORE: '/d/hub/fhir.sqlite',
      TOPOLOGY_FILE: '/d/topology.json',
      IMAGING_DATA_DIR: '/d',
    });
    expect(specs.midlands.env).toMatchObject({
      REGION_ID: 'midlands',
      PORT: '5102',
      HUB_URL: 'http://127.0.0.1:5000',
      GATEWAY_STORE: '/d/midlands/fhir.sqlite',
    });
    // The safety scene's short CRITICAL windows and a safety job every second; other categories keep theirs.
    for (const region of ['north', 'midlands', 'south'] as const)
      expect(specs[region].env).toMatchObject({
        ALERT_ACK_WINDOWS: `CRITICAL=${DEMO_SAFETY.criticalAcknowledgementMs / 1000}s`,
        ESCALATION_STEP: `CRITICAL=${DEMO_SAFETY.criticalStepMs / 1000}s`,
        SAFETY_INTERVAL: `${DEMO_SAFETY.safetyIntervalMs / 1000}s`,
      });
    expect(specs.north.entry).toMatch(/services\/regional-gateway\/src\/main\.ts$/);
    expect(specs.hub.entry).toMatch(/services\/national-hub\/src\/main\.ts$/);
  });

  it('leaves each service its own secrets in the data dir, so a service restarted alone keeps its page links', () => {
    const options = { explore: false, scenario: true, portBase: 5000, dataDir: '/d', host: '127.0.0.1' };
    for (const spec of Object.values(serviceSpecs(options, demoTopology(options)))) {
      expect(spec.env, spec.name).toMatchObject({ IMAGING_DATA_DIR: '/d' });
      expect(
        Object.keys(spec.env).filter((k) => k.includes('SECRET')),
        spec.name,
      ).toEqual([]);
    }
  });

  it('says, when one of their ports is taken, that the demo can run on other ports', () => {
    const options = { explore: false, scenario: true, portBase: 5000, dataDir: '/d', host: '127.0.0.1' };
    const specs = serviceSpecs(options, demoTopology(options));
    expect(new PortInUseError(specs.south).message).toBe(
      'port 5103 on 127.0.0.1 (for the south gateway) is already in use: stop whatever is listening there, or run the demo on other ports with --port-base <n>',
    );
    expect(new PortInUseError(specs.hub).message).toMatch(/\(for the national hub\).*--port-base <n>$/);
  });

  it('stores in HAPI partitions named after the hub and the regions with --hapi', () => {
    expect(storeLocations({ hapiUrl: 'http://h:8080/fhir' }, '/d')).toEqual({
      hub: 'http://h:8080/fhir/hub',
      regions: {
        north: 'http://h:8080/fhir/north',
        midlands: 'http://h:8080/fhir/midlands',
        south: 'http://h:8080/fhir/south',
      },
    });
  });
});

describe('run identifiers', () => {
  it('are valid and differ between runs', () => {
    const a = runIds(new Date('2026-11-23T09:00:00Z'));
    const b = runIds(new Date('2026-11-23T09:00:01Z'));
    expect(isValidNhsNumber(a.nhsNumber)).toBe(true);
    expect(a.nhsNumber.startsWith('999')).toBe(true);
    expect(a.placer(1)).toMatch(/^N81001-\d{6}-1$/);
    expect(a.placer(1)).not.toBe(b.placer(1));
    expect(a.studyUid).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(a.studyUid.length).toBeLessThanOrEqual(64);
    expect(a.report.startsWith('RM1-')).toBe(true);
  });
});
