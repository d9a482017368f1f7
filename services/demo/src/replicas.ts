import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent, Communication, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  EXTENSIONS,
  loadFhirDefinitions,
  NHS_NUMBER_SYSTEM,
  openStore,
  searchAll,
  SYSTEMS,
} from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import type { Topology } from '@imaging/config';
import { freePort, ServiceProcess } from '@imaging/service-process';
import type { ServiceSpec } from '@imaging/service-process';
import { createReferrer, createRisPacs, devClient, pollUntil } from '@imaging/simulators';
import { expect } from 'vitest';
import { theOne } from './evidence.ts';
import { freshWorld, runIds, serviceSpecs, storeLocations } from './world.ts';

/**
 * Two north gateway processes on one store, racing to escalate one CRITICAL alert: the clinical-safety
 * requirement that timers are safe on N replicas (each claim is a versioned update, so each escalation
 * fires once). The same run on the embedded store (a test of this package) and on a HAPI partition
 * (conformance group 7). Real processes and real time: the windows are seconds, and nothing is asserted
 * on timing, only on what the store holds and what each process logged.
 */
export interface ReplicaStores {
  hub: string;
  north: string;
  midlands: string;
}

export interface ReplicaRaceOptions {
  /** Where each service stores; default the embedded stores in the run's data dir. */
  stores?: ReplicaStores;
  /** The CRITICAL acknowledgement window and escalation step (HAPI, slower, wants more). */
  stepMs?: number;
  /** How long the alert may take to reach the fail-safe officer. */
  timeoutMs?: number;
}

/** What one replica's log says it did. */
export interface ReplicaShare {
  escalated: number;
  raced: number;
  failed: number;
}

export interface ReplicaRace {
  /** The alert's `alert-escalated` AuditEvents, oldest first. */
  escalations: { from?: string; to?: string; reminder: boolean }[];
  /** Escalation Communications per recipient (role or organisation identifier). */
  told: Record<string, number>;
  replicas: { a: ReplicaShare; b: ReplicaShare };
}

const PATEL = 'n81001-patel';
const stepOf = (task: Task) => task.businessStatus?.coding?.find((c) => c.system === CODE_SYSTEMS.alertStep)?.code;
const detail = (event: AuditEvent, type: string) =>
  event.entity?.flatMap((e) => e.detail ?? []).find((d) => d.type === type)?.valueString;

const pause = (service: ServiceProcess) => service.pid && process.kill(service.pid, 'SIGSTOP');
const resume = (service: ServiceProcess) => service.running && service.pid && process.kill(service.pid, 'SIGCONT');

/** Totals of a replica's `safety pass` log lines (one JSON object per line; anything else is skipped). */
function shareOf(logFile: string): ReplicaShare {
  const share: ReplicaShare = { escalated: 0, raced: 0, failed: 0 };
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.message !== 'safety pass') continue;
    for (const key of ['escalated', 'raced', 'failed'] as const) share[key] += Number(entry[key] ?? 0);
  }
  return share;
}

export async function raceEscalationOnTwoReplicas(options: ReplicaRaceOptions = {}): Promise<ReplicaRace> {
  const stepMs = options.stepMs ?? 2_000;
  const { dataDir, options: demoOptions, topology } = await freshWorld('imaging-replicas-');
  const embedded = storeLocations({}, dataDir);
  const stores = options.stores ?? {
    hub: embedded.hub,
    north: embedded.regions.north as string,
    midlands: embedded.regions.midlands as string,
  };
  const specs = serviceSpecs(demoOptions, topology);
  const safetyEnv = {
    ALERT_ACK_WINDOWS: `CRITICAL=${stepMs}ms`,
    ESCALATION_STEP: `CRITICAL=${stepMs}ms`,
    SAFETY_INTERVAL: '200ms',
  };
  const withStore = (spec: ServiceSpec, variable: string, location: string): ServiceSpec => ({
    ...spec,
    env: { ...spec.env, ...safetyEnv, [variable]: location },
  });
  const north = withStore(specs.north, 'GATEWAY_STORE', stores.north);
  const portB = await freePort();
  // Replica B: the north gateway again, on its own port, on the same store. Nothing is sent to it: it
  // only runs its jobs, which is where the race is.
  const northB: ServiceSpec = {
    ...north,
    name: 'north-b',
    label: 'north gateway (replica B)',
    port: portB,
    logFile: join(dataDir, 'logs', 'north-b.log'),
    env: { ...north.env, PORT: String(portB) },
  };
  const services = [
    withStore(specs.hub, 'HUB_STORE', stores.hub),
    north,
    northB,
    withStore(specs.midlands, 'GATEWAY_STORE', stores.midlands),
  ].map((spec) => new ServiceProcess(spec));
  const [northStore, midlandsStore] = [openStore(stores.north), openStore(stores.midlands)];
  try {
    for (const service of services) await service.launch();
    loadFhirDefinitions();
    await Promise.all(services.map((s) => s.waitHealthy()));

    // Each replica is made to take a step of its own, by pausing the other (SIGSTOP) for it: B for the
    // first, A for the second. From then on both run and race for every step.
    const [a, b] = [services[1], services[2]] as [ServiceProcess, ServiceProcess];
    pause(b);
    const alert = await raiseCriticalAlert(topology, dataDir, { north: northStore, midlands: midlandsStore });
    const reach = (step: string) =>
      pollUntil(
        async () => {
          const current = await northStore.read<Task>('Task', alert);
          return stepOf(current) === step ? current : undefined;
        },
        { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 100, what: `the alert to reach the ${step}` },
      );
    await reach('delegate');
    pause(a);
    resume(b);
    await reach('responsible');
    resume(a);
    await reach('fail-safe-officer');
    await Promise.all(services.map((s) => s.stop()));

    const audits = await searchAll<AuditEvent>(northStore, 'AuditEvent', {
      entity: `Task/${alert}`,
      subtype: `${CODE_SYSTEMS.auditSubtype}|alert-escalated`,
    });
    const escalations = audits
      .sort((a, b) => (a.recorded ?? '').localeCompare(b.recorded ?? ''))
      .map((event) => ({
        from: detail(event, 'from'),
        to: detail(event, 'to'),
        reminder: !!detail(event, 'reminder'),
      }));
    const told: Record<string, number> = {};
    const sent = await searchAll<Communication>(northStore, 'Communication', { 'based-on': `Task/${alert}` });
    for (const c of sent.filter((c) => c.reasonCode?.[0]?.text))
      for (const r of c.recipient ?? [])
        if (r.identifier?.value) told[r.identifier.value] = (told[r.identifier.value] ?? 0) + 1;
    return { escalations, told, replicas: { a: shareOf(north.logFile), b: shareOf(northB.logFile) } };
  } finally {
    for (const service of services) resume(service);
    await Promise.all(services.map((s) => s.kill().catch(() => undefined)));
    await Promise.all([northStore.close(), midlandsStore.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Each step of the ladder fired once: requester → delegate → responsible → fail-safe officer, each from the
 * step before (a duplicate would repeat a `from`), then only reminders to the fail-safe officer; one
 * Communication per escalation; and every escalation logged by the one replica that made it.
 */
export function expectEachStepOnce(race: ReplicaRace): void {
  const { escalations, told, replicas } = race;
  expect(escalations.slice(0, 3).map((e) => [e.from, e.to, e.reminder])).toEqual([
    ['requester', 'delegate', false],
    ['delegate', 'responsible', false],
    ['responsible', 'fail-safe-officer', false],
  ]);
  for (const reminder of escalations.slice(3))
    expect([reminder.from, reminder.to, reminder.reminder]).toEqual(['fail-safe-officer', 'fail-safe-officer', true]);
  expect(told).toEqual({ 'n81001-okafor': 1, 'n81001-hughes': 1, 'north-failsafe': escalations.length - 2 });
  expect(replicas.a.escalated + replicas.b.escalated).toBe(escalations.length);
  expect(replicas.a.failed + replicas.b.failed).toBe(0);
  // Each took a step while the other was paused: both replicas escalated, on the one store.
  expect(replicas.a.escalated).toBeGreaterThanOrEqual(1);
  expect(replicas.b.escalated).toBeGreaterThanOrEqual(1);
}

/** A CRITICAL finding for Dr Asha Patel's order: the north GP orders from RM1, which reports it; returns the alert's id. */
async function raiseCriticalAlert(
  topology: Topology,
  dataDir: string,
  stores: { north: FhirStore; midlands: FhirStore },
): Promise<string> {
  const ids = runIds();
  const options = { hubUrl: topology.hub.url, dataDir };
  const fhirBase = (id: string) => `${topology.regions.find((r) => r.id === id)?.url}/fhir`;
  const gp = createReferrer(await devClient('gp-n81001', fhirBase('north'), options), 'N81001');
  const ris = createRisPacs(await devClient('ris-rm1', fhirBase('midlands'), options), 'RM1');
  const caseId = ids.caseId(1);
  const patient: WithId<Patient> = await gp.registerPatient(
    examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: ids.nhsNumber }] }),
    { correlationId: caseId },
  );
  await gp.placeOrder(
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: ids.placer(1) }],
      subject: { reference: `Patient/${patient.id}` },
      authoredOn: new Date().toISOString(),
      extension: [
        {
          url: EXTENSIONS.requestingClinician,
          valueReference: { type: 'PractitionerRole', identifier: { system: SYSTEMS.practitionerRole, value: PATEL } },
        },
      ],
    }),
    { correlationId: caseId },
  );
  const copy = await pollUntil(
    () => theOne<ServiceRequest>(stores.midlands, 'ServiceRequest', SYSTEMS.placerOrder, ids.placer(1)),
    { timeoutMs: 30_000, what: `order ${ids.placer(1)} to reach the midlands` },
  );
  const endpoint = await ris.registerDicomWebEndpoint('https://pacs.rm1.example/dicomweb', 'RM1 PACS', {
    correlationId: caseId,
  });
  const study = await ris.recordImagingStudy(
    copy,
    endpoint.resource,
    {
      studyUid: `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`,
      accession: ids.accession,
      description: 'CT pulmonary angiogram',
    },
    { correlationId: caseId },
  );
  await ris.issueReport(
    copy,
    study.resource,
    { alertCategory: 'CRITICAL', conclusion: 'Saddle pulmonary embolus.', identifier: ids.report },
    { correlationId: caseId },
  );
  const alert = await pollUntil(() => theOne<Task>(stores.north, 'Task', SYSTEMS.task, `${ids.report}-acknowledge`), {
    timeoutMs: 30_000,
    what: 'the CRITICAL alert to be raised in the north',
  });
  return alert.id;
}
