import type {
  AuditEvent,
  Bundle,
  DiagnosticReport,
  DocumentReference,
  ImagingStudy,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { CODE_SYSTEMS, NHS_NUMBER_SYSTEM, SYSTEMS } from '@imaging/fhir';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../suite/demo-process.ts';
import type { DemoOutcome } from '../suite/demo-process.ts';
import { note, requireTarget, suiteOptions } from '../suite/context.ts';
import { writePathwayRun } from '../suite/pathway-run.ts';
import { describeAnswer, rawFhir } from '../suite/raw-fhir.ts';
import { describeRows, hapiRows, resourceRows } from '../server/postgres.ts';
import { ensurePartitions, hasPartition } from '../server/resolve.ts';

/**
 * Group 4: the reference scenario (`pnpm demo --hapi`) with the hub and every gateway storing in HAPI,
 * one partition each; then, straight from HAPI, proof that each partition holds what the scenario
 * wrote there. The demo's own steps verify the pathway; these tests verify it really ran on HAPI.
 */
const target = requireTarget();
const options = suiteOptions();
const STORES = ['hub', 'north', 'midlands', 'south'] as const;
const DEMO_TIMEOUT_MS = 8 * 60_000;

let demo: DemoOutcome | undefined;
let srNorth: ServiceRequest & { id: string };
let srMidlands: ServiceRequest & { id: string };

const store = (name: (typeof STORES)[number]) => rawFhir(`${target.root}/${name}`, `suite → HAPI ${name}`);

async function searchAll<T extends Resource>(
  name: (typeof STORES)[number],
  type: string,
  query: Record<string, string>,
): Promise<(T & { id: string })[]> {
  const answer = await store(name).search(type, query);
  expect(answer.status, `${type} in ${name}: ${describeAnswer(answer)}`).toBe(200);
  return ((answer.body as Bundle | undefined)?.entry ?? [])
    .filter((e) => (e.search?.mode ?? 'match') === 'match')
    .map((e) => e.resource as T & { id: string });
}

function requireDemo(): DemoOutcome {
  expect(demo?.ids, 'the demo ran and printed its run ids').toBeDefined();
  return demo as DemoOutcome;
}

describe('the reference scenario on HAPI FHIR', () => {
  beforeAll(() => {
    // Even a failed demo leaves data worth validating; group 3 looks from this moment on.
    writePathwayRun(options.workDir, {
      startedAt: new Date(Date.now() - 5_000).toISOString(),
      root: target.root,
      passed: false,
    });
  });

  it('the partitions hub, north, midlands and south exist (made when missing on our HAPI)', async () => {
    expect(
      target.partitioned,
      `${target.root} has no URL partitions: the pathway stores each service in one (<root>/hub, <root>/north…)`,
    ).toBe(true);
    const missing = [];
    for (const name of STORES) if (!(await hasPartition(target.root, name))) missing.push(name);
    if (missing.length) {
      expect(
        target.kind,
        `partitions ${missing.join(', ')} are missing, and only a HAPI server can be asked to make them`,
      ).toBe('hapi');
      note(`created partitions ${(await ensurePartitions(target.root, missing)).join(', ')}`);
    }
    for (const name of STORES) expect(await hasPartition(target.root, name), `partition ${name}`).toBe(true);
  });

  it('pnpm demo --hapi: every step of the scenario passes with the hub and the gateways storing in HAPI', {
    timeout: DEMO_TIMEOUT_MS + 60_000,
  }, async () => {
    demo = await runDemo({ hapiRoot: target.root, dataDir: join(options.workDir, 'demo'), timeoutMs: DEMO_TIMEOUT_MS });
    note(`demo log: ${demo.logFile}`);
    for (const line of demo.stepLines) note(line);
    writePathwayRun(options.workDir, {
      startedAt: demo.startedAt,
      root: target.root,
      passed: demo.passed === demo.total,
    });
    expect(demo.summary, `the demo's last line (exit ${demo.exitCode}); its output:\n${demo.tail}`).toBe(
      `demo: ${demo.total}/${demo.total} steps passed`,
    );
    expect(demo.exitCode).toBe(0);
  });

  it('north (the referrer’s region): the order, its fulfilment Task completed with the report, the report and the study', async () => {
    const { ids } = requireDemo();
    const orders = await searchAll<ServiceRequest>('north', 'ServiceRequest', {
      identifier: `${SYSTEMS.placerOrder}|${ids?.placer}`,
    });
    expect(orders, `one order ${ids?.placer} in north`).toHaveLength(1);
    srNorth = orders[0] as ServiceRequest & { id: string };
    const tasks = await searchAll<Task>('north', 'Task', {
      focus: `ServiceRequest/${srNorth.id}`,
      code: `${CODE_SYSTEMS.taskCode}|fulfil`,
    });
    expect(tasks.map((t) => t.status)).toEqual(['completed']);
    const reportRef = tasks[0]?.output
      ?.map((o) => o.valueReference?.reference)
      .find((r) => r?.startsWith('DiagnosticReport/'));
    expect(reportRef, 'the Task names the report as its output').toBeDefined();
    const reports = await searchAll<DiagnosticReport>('north', 'DiagnosticReport', {
      'based-on': `ServiceRequest/${srNorth.id}`,
    });
    expect(reports.map((r) => `DiagnosticReport/${r.id}`)).toContain(reportRef);
    const studies = await searchAll<ImagingStudy>('north', 'ImagingStudy', { basedon: `ServiceRequest/${srNorth.id}` });
    expect(studies.length, 'the study travelled with the report').toBeGreaterThan(0);
  });

  it('midlands (the imaging provider’s region): its copy of the order and Task (completed), the study with its DICOMweb Endpoint, the report', async () => {
    const { ids } = requireDemo();
    const orders = await searchAll<ServiceRequest>('midlands', 'ServiceRequest', {
      identifier: `${SYSTEMS.placerOrder}|${ids?.placer}`,
    });
    expect(orders, `one copy of order ${ids?.placer} in midlands`).toHaveLength(1);
    srMidlands = orders[0] as ServiceRequest & { id: string };
    const tasks = await searchAll<Task>('midlands', 'Task', {
      focus: `ServiceRequest/${srMidlands.id}`,
      code: `${CODE_SYSTEMS.taskCode}|fulfil`,
    });
    expect(tasks.map((t) => t.status)).toEqual(['completed']);
    const studies = await searchAll<ImagingStudy>('midlands', 'ImagingStudy', {
      basedon: `ServiceRequest/${srMidlands.id}`,
      _include: 'ImagingStudy:endpoint',
    });
    expect(studies.length).toBeGreaterThan(0);
    const endpointRef = studies[0]?.endpoint?.[0]?.reference;
    expect(endpointRef, 'the study names its DICOMweb Endpoint').toMatch(/^Endpoint\//);
    const endpoint = await store('midlands').get(endpointRef as string);
    expect(endpoint.status, describeAnswer(endpoint)).toBe(200);
    const reports = await searchAll<DiagnosticReport>('midlands', 'DiagnosticReport', {
      'based-on': `ServiceRequest/${srMidlands.id}`,
    });
    expect(reports.length).toBeGreaterThan(0);
  });

  it('hub: the directory, the locator’s pointers to the patient’s study and report, and the audit trail of routed messages', async () => {
    const { ids, startedAt } = requireDemo();
    const endpoints = await searchAll('hub', 'Endpoint', { identifier: `${SYSTEMS.serviceId}|imaging-midlands` });
    expect(endpoints, 'the directory entry of the midlands gateway').toHaveLength(1);
    const pointers = await searchAll<DocumentReference>('hub', 'DocumentReference', {
      'subject-identifier': `${NHS_NUMBER_SYSTEM}|${ids?.nhsNumber}`,
    });
    const kinds = pointers.flatMap((p) => p.type?.coding?.map((c) => c.code) ?? []);
    expect(kinds, 'pointers to the study and the report').toEqual(
      expect.arrayContaining(['ImagingStudy', 'DiagnosticReport']),
    );
    const audits = await searchAll<AuditEvent>('hub', 'AuditEvent', { _lastUpdated: `ge${startedAt}`, _count: '100' });
    const subtypes = new Set(audits.flatMap((a) => a.subtype?.map((s) => s.code) ?? []));
    expect([...subtypes], 'audited kinds of event').toEqual(
      expect.arrayContaining(['message-routed', 'pointer-registered']),
    );
  });

  // Only where the suite started HAPI on PostgreSQL: what the partitions answered is in that database.
  const postgres = target.database?.postgres;
  if (postgres) {
    it(`PostgreSQL: the partitions the scenario wrote are rows of database ${postgres.database}, the order among them in north and in midlands`, () => {
      const rows = hapiRows(postgres);
      note(describeRows(rows));
      expect(rows.partitions).toEqual(expect.arrayContaining([...STORES]));
      // The south's clinician only reads (through the locator): its partition may well be empty.
      for (const name of ['hub', 'north', 'midlands'])
        expect(rows.resourcesByPartition[name] ?? 0, `rows of ${name}`).toBeGreaterThan(0);
      expect(srNorth?.id, 'the order was found in north').toBeDefined();
      expect(srMidlands?.id, 'the order was found in midlands').toBeDefined();
      expect(resourceRows(postgres, 'north', 'ServiceRequest', srNorth.id), `ServiceRequest/${srNorth.id}`).toBe(1);
      expect(
        resourceRows(postgres, 'midlands', 'ServiceRequest', srMidlands.id),
        `ServiceRequest/${srMidlands.id}`,
      ).toBe(1);
      // The same id in a partition that never held it: the query tells partitions apart.
      expect(resourceRows(postgres, 'hub', 'ServiceRequest', srNorth.id)).toBe(0);
    });
  }
});
