import { randomInt } from 'node:crypto';
import type { TokenSource } from '@imaging/auth';
import { devTokenSource, serviceClient } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import type { Topology } from '@imaging/config';
import { CODE_SYSTEMS, randomTestNhsNumber, searchAll, searchOne, SYSTEMS } from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';
import type {
  AuditEvent,
  Bundle,
  Communication,
  DiagnosticReport,
  Parameters,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import { deliverDue } from '../domain/delivery.ts';
import { escalateOverdueAlerts } from '../domain/escalation.ts';
import { DEFAULT_ALERTS } from '../domain/ports.ts';
import type { ConnectedRegion } from '../testing/national.ts';
import { connectedRegions } from '../testing/national.ts';
import { testClock } from '../testing/regions.ts';

/**
 * The world a clinical safety scenario runs in: the real hub and a real gateway per region (the connected-
 * regions kit), every service on the store the run gives it (embedded in memory, or HAPI FHIR partitions),
 * a clock the scenario moves (no real waiting), the pathway's systems as API clients with real tokens, and
 * what the gateways do in the background (delivery, the safety job) run at each tick of that clock.
 *
 * With `safety: false` the same world has no clinical safety layer: reports raise no alerts and the safety
 * job never runs. A scenario run there shows that the failure it stages goes unnoticed without the layer.
 */

export type RegionId = 'north' | 'midlands' | 'south';

export interface ScenarioWorldOptions {
  /** The clinical safety layer: alerts raised with reports, and the safety job run at each tick. */
  safety: boolean;
  /** The store of the hub (`hub`) or of a region's gateway, unvalidated; default embedded, in memory. */
  store?: (service: string) => FhirStore;
  /** When the world's clock starts. */
  start?: Date;
}

/**
 * The development topology, with the systems the scenarios need besides its own: the emergency
 * department's system at RN1 (a referrer that also records discharges) and RN1's own RIS.
 */
export function scenarioTopology(): Topology {
  const topology = devTopology();
  const like = (id: string, model: string, changes: Partial<Topology['clients'][number]>) => {
    const found = topology.clients.find((c) => c.id === model);
    if (!found) throw new Error(`no dev client ${model}`);
    return { ...found, id, ...changes };
  };
  return {
    ...topology,
    clients: [
      ...topology.clients,
      like('ed-rn1', 'gp-n81001', {
        organisation: 'RN1',
        scopes: [
          'system/Patient.crs',
          'system/ServiceRequest.crus',
          'system/Task.rus',
          'system/DiagnosticReport.rs',
          'system/ImagingStudy.rs',
          'system/Communication.rs',
          'system/Flag.rs',
        ],
      }),
      like('ris-rn1', 'ris-rm1', { organisation: 'RN1', region: 'north' }),
    ],
  };
}

/** One system's calls to its own region's gateway, with its own token. Failures throw the gateway's OutcomeError. */
export interface ScenarioClient {
  readonly id: string;
  create<T extends Resource>(resource: T): Promise<WithId<T>>;
  read<T extends Resource>(type: T['resourceType'], id: string): Promise<WithId<T>>;
  /** The matches of a search (its first page). */
  search<T extends Resource>(type: T['resourceType'], query: Record<string, string>): Promise<WithId<T>[]>;
  update<T extends Resource>(resource: WithId<T>): Promise<WithId<T>>;
  /** `POST <type>/<id>/$<name>` with Parameters. */
  operation<T extends Resource>(type: string, id: string, name: string, parameters: Parameters): Promise<WithId<T>>;
}

export type ScenarioWorld = Awaited<ReturnType<typeof scenarioWorld>>;

export async function scenarioWorld(options: ScenarioWorldOptions) {
  const clock = testClock((options.start ?? new Date('2026-11-23T09:00:00.000Z')).toISOString());
  const topology = scenarioTopology();
  const net = await connectedRegions({
    clock,
    topology,
    ...(options.store ? { store: options.store } : {}),
    alerts: DEFAULT_ALERTS,
    safety: options.safety,
  });
  // Unique per world: a HAPI server keeps what earlier runs wrote.
  const run = String(randomInt(100_000, 1_000_000));
  const down = new Set<RegionId>();
  const region = (id: RegionId): ConnectedRegion => net[id];

  const tokens = new Map<string, TokenSource>();
  const tokensOf = async (client: string) => {
    let source = tokens.get(client);
    if (!source) {
      source = await devTokenSource(client, { hubUrl: net.hub.publicUrl, dataDir: net.dataDir, fetch: net.fetch });
      tokens.set(client, source);
    }
    return source;
  };

  function client(id: string): ScenarioClient {
    const registered = topology.clients.find((c) => c.id === id);
    if (!registered) throw new Error(`no client ${id} in the scenario topology`);
    const base = region(registered.region as RegionId).deps.region.fhirBaseUrl;
    const call = async <T>(path: string, init: { method?: string; body?: unknown; ifMatch?: string } = {}) => {
      const http = serviceClient({ tokens: await tokensOf(id), fetch: net.fetch });
      const headers: Record<string, string> = init.ifMatch ? { 'If-Match': `W/"${init.ifMatch}"` } : {};
      return (await http.call<T>(`${base}/${path}`, { method: init.method ?? 'GET', body: init.body, headers })).body;
    };
    return {
      id,
      create: (resource) => call(resource.resourceType, { method: 'POST', body: resource }),
      read: (type, resourceId) => call(`${type}/${resourceId}`),
      search: async <T extends Resource>(type: T['resourceType'], query: Record<string, string>) => {
        const bundle = await call<Bundle>(`${type}?${new URLSearchParams(query)}`);
        return (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource as WithId<T>);
      },
      update: (resource) =>
        call(`${resource.resourceType}/${resource.id}`, {
          method: 'PUT',
          body: resource,
          ifMatch: resource.meta?.versionId as string,
        }),
      operation: (type, resourceId, name, parameters) =>
        call(`${type}/${resourceId}/$${name}`, { method: 'POST', body: parameters }),
    };
  }

  /**
   * What the gateways do in the background, once, at the clock's time: each region that is up delivers what
   * is due (and again, while a delivery makes more: a report raising an alert that is copied on), then, with
   * the safety layer, runs the safety job.
   */
  async function tick(): Promise<void> {
    const up = (['north', 'midlands', 'south'] as const).filter((id) => !down.has(id));
    for (let round = 0; round < 5; round++) {
      let delivered = 0;
      for (const id of up) delivered += (await deliverDue(region(id).deps)).delivered;
      if (delivered === 0) break;
    }
    if (options.safety) for (const id of up) await escalateOverdueAlerts(region(id).deps);
  }

  /** Moves the clock on by `ms`, a tick every `every` ms (the last one at the end). */
  async function advance(ms: number, every: number): Promise<void> {
    const end = clock.now().getTime() + ms;
    while (clock.now().getTime() < end) {
      clock.advance(Math.min(every, end - clock.now().getTime()));
      await tick();
    }
  }

  return {
    safety: options.safety,
    clock,
    net,
    run,
    topology,
    /** The region's gateway: its domain deps (store, settings) and app. */
    region,
    client,
    tick,
    advance,
    /** A test NHS number for this world's patient. */
    nhsNumber: () => randomTestNhsNumber(),
    /** Takes a region's gateway down (unreachable, its jobs stopped) or brings it back. */
    setDown(id: RegionId, isDown: boolean) {
      net.setDown(id, isDown);
      if (isDown) down.add(id);
      else down.delete(id);
    },
    trail: (id: RegionId) => trailOf(region(id).deps.store),
    close: async () => {
      for (const store of [net.hub.store, ...Object.values(net.regions).map((r) => r.deps.store)]) await store.close();
      net.close();
    },
  };
}

/** A step up an alert's ladder, as its AuditEvent records it. */
export interface Escalation {
  from: string;
  to: string;
  recipient: string;
  at: Date;
}

const detailOf = (event: AuditEvent, type: string) =>
  event.entity?.flatMap((e) => e.detail ?? []).find((d) => d.type === type)?.valueString;
const bySubtype = (subtype: string) => `${CODE_SYSTEMS.auditSubtype}|${subtype}`;

/**
 * What a region's store says became of a report's alert: read from the records the safety layer leaves (the
 * alert Tasks, Communications and AuditEvents), each found from the report's business identifier, so one
 * case's trail is read however much else the store holds.
 */
export function trailOf(store: FhirStore) {
  const taskByIdentifier = (value: string) =>
    searchOne<Task>(store, 'Task', { identifier: `${SYSTEMS.task}|${value}` });
  const auditsOf = async (task: Task | undefined, subtype: string) =>
    task
      ? (
          await searchAll<AuditEvent>(store, 'AuditEvent', { entity: `Task/${task.id}`, subtype: bySubtype(subtype) })
        ).sort((a, b) => a.recorded.localeCompare(b.recorded))
      : [];
  return {
    /** A report, by its business identifier. */
    report: (identifier: string) =>
      searchOne<DiagnosticReport>(store, 'DiagnosticReport', { identifier: `${SYSTEMS.report}|${identifier}` }),
    /** The requester's acknowledgement Task on a report. */
    alert: (report: string) => taskByIdentifier(`${report}-acknowledge`),
    /** The performer's watch on a report's alert, when the requester is in another region. */
    watch: (report: string) => taskByIdentifier(`${report}-watch`),
    /** A Communication by its business identifier. */
    communication: (identifier: string) =>
      searchOne<Communication>(store, 'Communication', { identifier: `${SYSTEMS.communication}|${identifier}` }),
    /** An alert's copy received from another region (a service id), by the identifier it was sent with. */
    receivedCopy: (from: string, identifier: string) =>
      searchOne<Communication>(store, 'Communication', {
        identifier: `${SYSTEMS.receivedCommunication}|${from}/${identifier}`,
      }),
    /** When someone (a PractitionerRole, or an organisation, by identifier value) was first told of the alert. */
    async told(task: Task | undefined, recipient: string): Promise<Date | undefined> {
      if (!task) return undefined;
      const sent = (await searchAll<Communication>(store, 'Communication', { 'based-on': `Task/${task.id}` }))
        .filter((c) => c.recipient?.some((r) => r.identifier?.value === recipient))
        .map((c) => new Date(c.sent as string).getTime());
      return sent.length ? new Date(Math.min(...sent)) : undefined;
    },
    /** Every step up the alert's ladder, oldest first. */
    async escalations(task: Task | undefined): Promise<Escalation[]> {
      return (await auditsOf(task, 'alert-escalated')).map((e) => ({
        from: detailOf(e, 'from') ?? '',
        to: detailOf(e, 'to') ?? '',
        recipient: detailOf(e, 'recipient') ?? '',
        at: new Date(e.recorded),
      }));
    },
    /** When the alert's steps were passed because nobody there could receive it (someone who has left). */
    async skipped(task: Task | undefined): Promise<{ step: string; reason: string; at: Date }[]> {
      return (await auditsOf(task, 'alert-step-skipped')).map((e) => ({
        step: detailOf(e, 'step') ?? '',
        reason: detailOf(e, 'reason') ?? '',
        at: new Date(e.recorded),
      }));
    },
    /** When the patient was told of the alert. */
    async patientTold(task: Task | undefined): Promise<Date | undefined> {
      const [event] = await auditsOf(task, 'alert-patient-notified');
      return event ? new Date(event.recorded) : undefined;
    },
    /** When the performer's watch last heard from the requester's region. */
    async watchUpdated(task: Task | undefined): Promise<Date | undefined> {
      const events = await auditsOf(task, 'alert-watch-updated');
      return events.length ? new Date((events.at(-1) as AuditEvent).recorded) : undefined;
    },
    /** When an AuditEvent of a subtype about a resource (e.g. Communication/1) was recorded, first. */
    async recorded(reference: string, subtype: string): Promise<Date | undefined> {
      const events = await searchAll<AuditEvent>(store, 'AuditEvent', {
        entity: reference,
        subtype: bySubtype(subtype),
      });
      const times = events.map((e) => new Date(e.recorded).getTime());
      return times.length ? new Date(Math.min(...times)) : undefined;
    },
  };
}
