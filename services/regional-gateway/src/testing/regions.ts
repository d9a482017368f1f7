import type { Caller } from '@imaging/fhir';
import type { Bundle, DocumentReference } from '@medplum/fhirtypes';
import { devTopology } from '@imaging/config';
import type { Topology } from '@imaging/config';
import { isAlertRole, OutcomeError, SqliteStore, unavailable, validatingStore, memoryLogger } from '@imaging/fhir';
import { devNotifications } from '../adapters/dev-notifications.ts';
import { processMessage } from '../domain/inbound.ts';
import { patientCache } from '../domain/patient-cache.ts';
import type { DirectoryRole, GatewayDeps, HubPort, RoleHolder, ServiceLocation } from '../domain/ports.ts';
import { DEFAULT_ALERTS, DEFAULT_DELIVERY, DEFAULT_TURNAROUND } from '../domain/ports.ts';

/**
 * Regions wired together in one process for domain tests: each has its own embedded store, and a
 * hub stand-in routes messages by calling the target region's `processMessage` directly. (Real HTTP
 * between real services is covered by the service tests and the demo.)
 */
export interface TestClock {
  now(): Date;
  advance(ms: number): void;
}

export function testClock(start = '2026-11-23T09:00:00.000Z'): TestClock {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface TestHub extends HubPort {
  down: Set<string>;
  pointers: DocumentReference[];
  routed: { target: string; requestId: string; correlationId: string }[];
  /** The topology the directory answers from: a test may change it (someone leaves, an organisation goes). */
  topology: Topology;
}

/** The directory's people for an organisation or a region, as the hub seeds them from the topology. */
export function rolesIn(topology: Topology, holder: RoleHolder): DirectoryRole[] | undefined {
  if ('region' in holder) {
    const officer = topology.regions.find((r) => r.id === holder.region)?.failSafeOfficer;
    return officer
      ? [{ id: officer.id, role: 'fail-safe-officer', active: officer.active !== false, name: officer.name }]
      : [];
  }
  const org = topology.organisations.find((o) => o.ods === holder.ods);
  // As the hub seeds them: a role it does not know is refused there, so none reaches a gateway.
  return org?.people?.flatMap((p) =>
    isAlertRole(p.role) ? [{ id: p.id, role: p.role, active: p.active !== false, name: p.name }] : [],
  );
}

export const HUB_CALLER: Caller = { clientId: 'national-hub', kind: 'hub' };

export function testRegions(clock: TestClock = testClock()) {
  const topology: Topology = structuredClone(devTopology());
  const regions = new Map<string, GatewayDeps>();
  const locate = (regionId: string): ServiceLocation => {
    const region = topology.regions.find((r) => r.id === regionId);
    if (!region) throw new Error(`no region ${regionId}`);
    return { regionId, serviceId: region.serviceId, fhirBaseUrl: `${region.url}/fhir` };
  };
  const hub: TestHub = {
    down: new Set(),
    pointers: [],
    routed: [],
    topology,
    async findService(ods) {
      const org = topology.organisations.find((o) => o.ods === ods);
      return org ? locate(org.region) : undefined;
    },
    async findAlertRoles(holder) {
      if (hub.down.has('directory')) throw new OutcomeError(unavailable('the directory is down'));
      return rolesIn(topology, holder);
    },
    async routeMessage(message: Bundle, headers) {
      if (hub.down.has(headers.target)) throw new OutcomeError(unavailable(`${headers.target} is down`));
      const target = [...regions.values()].find((r) => r.region.serviceId === headers.target);
      if (!target) throw new OutcomeError(unavailable(`no region ${headers.target}`));
      hub.routed.push(headers);
      return (
        await processMessage(target, HUB_CALLER, structuredClone(message), headers.requestId, headers.correlationId)
      ).response;
    },
    async registerPointer(pointer) {
      if (hub.down.has('national-locator')) throw new OutcomeError(unavailable('the locator is down'));
      const key = pointer.masterIdentifier?.value;
      if (!hub.pointers.some((p) => p.masterIdentifier?.value === key)) hub.pointers.push(pointer);
    },
  };
  const open = (regionId: string, store = validatingStore(new SqliteStore({ path: ':memory:' }))): GatewayDeps => {
    const { serviceId, fhirBaseUrl } = locate(regionId);
    const logger = memoryLogger();
    const deps: GatewayDeps = {
      store,
      hub,
      clock,
      logger,
      region: { regionId, serviceId, fhirBaseUrl },
      delivery: DEFAULT_DELIVERY,
      alerts: DEFAULT_ALERTS,
      turnaround: DEFAULT_TURNAROUND,
      notifications: devNotifications({ store, logger, clock }),
      patients: patientCache(),
    };
    regions.set(regionId, deps);
    return deps;
  };
  return { north: open('north'), midlands: open('midlands'), south: open('south'), hub, clock, open };
}

export const GP: Caller = { clientId: 'gp-n81001', kind: 'referrer', organisation: 'N81001', region: 'north' };
export const RIS: Caller = { clientId: 'ris-rm1', kind: 'provider', organisation: 'RM1', region: 'midlands' };
