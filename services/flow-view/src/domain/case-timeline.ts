import type { AuditEvent, DiagnosticReport, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { alertCategoryOf, CODE_SYSTEMS, odsOf, SYSTEMS, taskCodeOf } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { briefDeliveryProgress, flowLabelOf } from '@imaging/messaging';
import type { FlowLabel } from '@imaging/messaging';
import { formatDuration } from './live.ts';
import { HUB_NODE } from './ports.ts';
import type { FlowTopology, OrganisationInfo, RegionNode } from './ports.ts';
import { regionOfOrganisation, regionOfService } from './topology.ts';

/**
 * One case's story across regions, from what each service holds about it (its `$case-trail`): every request,
 * message, status change, delivery attempt, AuditEvent and alert step, in time order, each in the lane of the
 * actor that did it (the requester, its region's gateway, the hub, the performer's gateway, the performer).
 *
 * Who changed a Task is not recorded on it, so it is read from the rule every region enforces
 * (checkMessageAuthority): progress comes from the performer, cancellation from the requester, each in its
 * own region; the same change in the other region arrived by message.
 */

export interface Lane {
  id: string;
  /** What the actor is: `GP practice N81001`, `North gateway`, `National hub`. */
  label: string;
  /** Its name, when the directory has one. */
  detail?: string;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info';

/** One stored version, and where it can be read. */
export interface ResourceRef {
  /** `hub` or the region's id. */
  source: string;
  type: string;
  id: string;
  version: string;
  /** Where it can be read at the service that holds it (readableAt). */
  url: string;
}

export interface TimelineEntry {
  at: string;
  /** The lane of the actor that did it. */
  lane: string;
  /** For a request or a message: the lane it went to. */
  toLane?: string;
  kind: 'request' | 'message' | 'status' | 'delivery' | 'audit' | 'alert' | 'result';
  text: string;
  tone: Tone;
  resource?: ResourceRef;
}

export interface CaseSummary {
  placer?: string;
  procedure?: string;
  requester?: OrganisationInfo;
  performer?: OrganisationInfo;
  /** The order's status where it is performed (else wherever it is held). */
  status?: string;
  alertCategory?: string;
}

export interface CaseTimeline {
  correlationId: string;
  summary: CaseSummary;
  lanes: Lane[];
  entries: TimelineEntry[];
  /** Services whose trail could not be read: their part of the story is missing. */
  missing: string[];
}

/** What each service gave: its trail, or undefined when it could not be read. */
export interface CaseTrails {
  correlationId: string;
  hub: WithId<Resource>[] | undefined;
  regions: { region: RegionNode; resources: WithId<Resource>[] | undefined }[];
}

const laneOfGateway = (region: string) => `gateway:${region}`;
const laneOfOrganisation = (ods: string) => `org:${ods}`;

const ORGANISATION_ROLE: Record<string, string> = {
  'gp-practice': 'GP practice',
  'imaging-provider': 'RIS/PACS',
  trust: 'Trust',
};

const STATUS_TEXT: Record<string, string> = { 'in-progress': 'in progress', 'on-hold': 'on hold' };
const statusText = (status: string | undefined) => (status ? (STATUS_TEXT[status] ?? status) : 'unknown');

const LABEL_TEXT: Record<FlowLabel, string> = {
  order: 'order',
  status: 'status update',
  report: 'report',
  pointer: 'locator pointer',
  alert: 'alert',
  message: 'message',
};

const input = (task: Task, name: string) => task.input?.find((i) => i.type?.text === name);

export function buildCaseTimeline(trails: CaseTrails, topology: FlowTopology): CaseTimeline {
  const all = [...(trails.hub ?? []), ...trails.regions.flatMap((r) => r.resources ?? [])];
  const order = all.find((r): r is WithId<ServiceRequest> => r.resourceType === 'ServiceRequest');
  const requesterOds = odsOf(order?.requester);
  const performerOds = odsOf(order?.performer?.[0]);
  const organisation = (ods: string | undefined): OrganisationInfo | undefined =>
    ods ? (topology.organisations.find((o) => o.ods === ods) ?? { ods, name: ods, region: '' }) : undefined;
  const requester = organisation(requesterOds);
  const performer = organisation(performerOds);
  const requesterRegion = regionOfOrganisation(topology, requesterOds);
  const performerRegion = regionOfOrganisation(topology, performerOds);

  // What the hub recorded about each message, by its X-Request-ID: what it carried.
  const eventOfRequest = new Map<string, string>();
  for (const audit of (trails.hub ?? []).filter((r): r is WithId<AuditEvent> => r.resourceType === 'AuditEvent')) {
    const request = audit.entity?.find((e) => e.what?.identifier?.system === SYSTEMS.messageRequest)?.what?.identifier
      ?.value;
    const event = audit.entity?.flatMap((e) => e.detail ?? []).find((d) => d.type === 'event')?.valueString;
    if (request && event) eventOfRequest.set(request, event.split('|').at(-1) as string);
  }

  const entries: TimelineEntry[] = [];
  const context: Context = {
    correlationId: trails.correlationId,
    topology,
    requesterRegion,
    performerRegion,
    requesterLane: requesterOds ? laneOfOrganisation(requesterOds) : undefined,
    performerLane: performerOds ? laneOfOrganisation(performerOds) : undefined,
    eventOfRequest,
  };
  for (const { region, resources } of trails.regions)
    if (resources) entries.push(...regionEntries(region, resources, context));
  if (trails.hub) entries.push(...hubEntries(trails.hub, topology.hubUrl, trails.correlationId));
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  const lanes = lanesFor(entries, { requester, performer, requesterRegion, performerRegion }, topology);
  const fulfilment = (region: string | undefined) =>
    trails.regions
      .find((r) => r.region.id === region)
      ?.resources?.filter((r): r is WithId<Task> => r.resourceType === 'Task' && taskCodeOf(r) === 'fulfil')
      .at(-1);
  const report = all.find((r): r is WithId<DiagnosticReport> => r.resourceType === 'DiagnosticReport');
  const placer = order?.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value;
  const procedure = order?.code?.text ?? order?.code?.coding?.[0]?.display;
  const status = (fulfilment(performerRegion) ?? fulfilment(requesterRegion))?.status;
  const alertCategory = report ? alertCategoryOf(report) : undefined;
  return {
    correlationId: trails.correlationId,
    summary: {
      ...(placer ? { placer } : {}),
      ...(procedure ? { procedure } : {}),
      ...(requester ? { requester } : {}),
      ...(performer ? { performer } : {}),
      ...(status ? { status } : {}),
      ...(alertCategory ? { alertCategory } : {}),
    },
    lanes,
    entries,
    missing: [
      ...(trails.hub ? [] : ['the national hub']),
      ...trails.regions.filter((r) => !r.resources).map((r) => `the ${r.region.name} gateway`),
    ],
  };
}

interface Context {
  correlationId: string;
  topology: FlowTopology;
  requesterRegion: string | undefined;
  performerRegion: string | undefined;
  requesterLane: string | undefined;
  performerLane: string | undefined;
  eventOfRequest: ReadonlyMap<string, string>;
}

/** A gateway's outbox deliveries: in a case's trail, never served one by one (the gateway keeps its outbox). */
const DELIVERY_CODES: ReadonlySet<string | undefined> = new Set(['deliver-message', 'register-pointer']);

/**
 * Where a version can be read at the service that holds it, with a token that may: its versioned URL, or for
 * an outbox delivery, which no client reads by id, the case's trail there.
 */
export function readableAt(base: string, resource: WithId<Resource>, correlationId: string): string {
  if (resource.resourceType === 'Task' && DELIVERY_CODES.has(taskCodeOf(resource)))
    return `${base}/$case-trail?correlation-id=${encodeURIComponent(correlationId)}`;
  return `${base}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? '1'}`;
}

function refOf(source: string, base: string, resource: WithId<Resource>, correlationId: string): ResourceRef {
  return {
    source,
    type: resource.resourceType,
    id: resource.id,
    version: resource.meta?.versionId ?? '1',
    url: readableAt(base, resource, correlationId),
  };
}

function regionEntries(region: RegionNode, resources: WithId<Resource>[], ctx: Context): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const gateway = laneOfGateway(region.id);
  const previous = new Map<string, WithId<Resource>>();
  const isRequesterRegion = region.id === ctx.requesterRegion;
  const isPerformerRegion = region.id === ctx.performerRegion;
  const otherRegion = isRequesterRegion ? ctx.performerRegion : ctx.requesterRegion;
  const from = otherRegion ? ` from ${otherRegion}` : '';
  for (const resource of resources) {
    const key = `${resource.resourceType}/${resource.id}`;
    const before = previous.get(key);
    previous.set(key, resource);
    const at = resource.meta?.lastUpdated ?? '';
    const add = (entry: Omit<TimelineEntry, 'at' | 'resource'>) =>
      out.push({ ...entry, at, resource: refOf(region.id, region.fhirBase, resource, ctx.correlationId) });
    // Who did something the region's own client did, or the gateway when it came by message.
    const local = (
      lane: string | undefined,
      text: string,
      arrived: string,
      kind: TimelineEntry['kind'],
      tone: Tone = 'info',
    ) => (lane ? add({ lane, toLane: gateway, kind, text, tone }) : add({ lane: gateway, kind, text: arrived, tone }));

    switch (resource.resourceType) {
      case 'ServiceRequest': {
        const placer = resource.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value ?? resource.id;
        const what = resource.code?.text ?? resource.code?.coding?.[0]?.display ?? 'imaging';
        if (before)
          add({ lane: gateway, kind: 'status', text: `Order ${placer} updated (${resource.status})`, tone: 'info' });
        else if (isRequesterRegion || !ctx.requesterRegion)
          local(
            ctx.requesterLane,
            `Places order ${placer}: ${what} at ${odsOf(resource.performer?.[0]) ?? '?'}`,
            `Order ${placer} stored`,
            'request',
          );
        else add({ lane: gateway, kind: 'message', text: `Order ${placer} received${from} and stored`, tone: 'ok' });
        break;
      }
      case 'Task':
        taskEntries(resource, before as WithId<Task> | undefined, region, ctx, add, local, from);
        break;
      case 'ImagingStudy': {
        const what = resource.description ?? 'imaging study';
        if (before) add({ lane: gateway, kind: 'result', text: `Study updated (${resource.status})`, tone: 'info' });
        else if (isPerformerRegion)
          local(ctx.performerLane, `Records the study: ${what}`, `Study stored: ${what}`, 'result');
        else add({ lane: gateway, kind: 'message', text: `Study received${from}: ${what}`, tone: 'ok' });
        break;
      }
      case 'DiagnosticReport': {
        const category = alertCategoryOf(resource);
        const alert = category ? `, alert category ${category}` : '';
        if (before)
          add({ lane: gateway, kind: 'result', text: `Report updated (${resource.status}${alert})`, tone: 'info' });
        else if (isPerformerRegion)
          local(
            ctx.performerLane,
            `Issues the report (${resource.status}${alert})`,
            `Report stored${alert}`,
            'result',
            category && category !== 'NONE' ? 'warn' : 'info',
          );
        else
          add({
            lane: gateway,
            kind: 'message',
            text: `Report received${from} (${resource.status}${alert})`,
            tone: 'ok',
          });
        break;
      }
      case 'AuditEvent':
        add({
          lane: gateway,
          kind: 'audit',
          text: auditText(resource),
          tone: resource.outcome === '0' ? 'info' : 'bad',
        });
        break;
      default:
        add({ lane: gateway, kind: 'audit', text: `${resource.resourceType} stored`, tone: 'info' });
    }
  }
  return out;
}

type Add = (entry: Omit<TimelineEntry, 'at' | 'resource'>) => void;
type Local = (
  lane: string | undefined,
  text: string,
  arrived: string,
  kind: TimelineEntry['kind'],
  tone?: Tone,
) => void;

function taskEntries(
  task: WithId<Task>,
  before: WithId<Task> | undefined,
  region: RegionNode,
  ctx: Context,
  add: Add,
  local: Local,
  from: string,
): void {
  const gateway = laneOfGateway(region.id);
  const code = taskCodeOf(task);
  if (DELIVERY_CODES.has(code)) {
    deliveryEntry(task, before, region, ctx, add);
    return;
  }
  if (code === 'acknowledge-result') {
    alertEntry(task, before, gateway, add);
    return;
  }
  const status = statusText(task.status);
  if (!before) {
    if (region.id === ctx.requesterRegion || !ctx.requesterRegion)
      add({ lane: gateway, kind: 'status', text: `Fulfilment Task created: ${status}`, tone: 'info' });
    else add({ lane: gateway, kind: 'message', text: `Task received${from}: ${status}`, tone: 'ok' });
    return;
  }
  if (before.status === task.status) {
    const note = task.note?.at(-1)?.text;
    if ((task.note?.length ?? 0) > (before.note?.length ?? 0) && note)
      add({ lane: gateway, kind: 'status', text: `Note added: ${note}`, tone: 'warn' });
    return;
  }
  // The rule every region enforces: the requester may only cancel; every other move is the performer's.
  const byRequester = task.status === 'cancelled';
  const actorRegion = byRequester ? ctx.requesterRegion : ctx.performerRegion;
  const actorLane = byRequester ? ctx.requesterLane : ctx.performerLane;
  const tone: Tone = ['cancelled', 'rejected', 'failed'].includes(task.status) ? 'warn' : 'info';
  if (region.id === actorRegion || !actorRegion)
    local(actorLane, `Sets the order ${status}`, `Task now ${status}`, 'status', tone);
  else add({ lane: gateway, kind: 'message', text: `Status update received${from}: ${status}`, tone });
}

function deliveryEntry(
  task: WithId<Task>,
  before: WithId<Task> | undefined,
  region: RegionNode,
  ctx: Context,
  add: Add,
): void {
  const gateway = laneOfGateway(region.id);
  const requestId = task.identifier?.find((i) => i.system === SYSTEMS.messageRequest)?.value ?? '';
  const destination = input(task, 'destination')?.valueString ?? '';
  const attempts = input(task, 'attempts')?.valueInteger ?? 0;
  const pointer = taskCodeOf(task) === 'register-pointer';
  const label: FlowLabel = pointer ? 'pointer' : flowLabelOf(ctx.eventOfRequest.get(requestId));
  const target = pointer ? undefined : regionOfService(ctx.topology, destination);
  const where = pointer ? 'the national locator' : (target?.id ?? destination);
  const what = LABEL_TEXT[label];
  if (!before) {
    add({ lane: gateway, kind: 'delivery', text: `Queues the ${what} for ${where}`, tone: 'info' });
    return;
  }
  const reason = briefDeliveryProgress(task.businessStatus?.text ?? '');
  if (task.status === 'completed' && before.status !== 'completed') {
    const queued = Date.parse(task.authoredOn ?? '');
    const delivered = Date.parse(task.executionPeriod?.end ?? task.lastModified ?? '');
    const hop =
      Number.isFinite(queued) && Number.isFinite(delivered)
        ? ` ${formatDuration(delivered - queued)} after it was queued`
        : '';
    const tries = attempts > 1 ? ` at attempt ${attempts}` : '';
    add({ lane: gateway, kind: 'delivery', text: `Delivered the ${what} to ${where}${tries},${hop}`, tone: 'ok' });
  } else if (task.status === 'failed' && before.status !== 'failed') {
    add({
      lane: gateway,
      kind: 'delivery',
      text: `The ${what} for ${where} was refused (${task.statusReason?.text ?? reason}): parked, not retried`,
      tone: 'bad',
    });
  } else if (task.status === 'requested' && attempts > (input(before, 'attempts')?.valueInteger ?? 0)) {
    add({
      lane: gateway,
      kind: 'delivery',
      text: `Could not deliver the ${what} to ${where} (${reason}): will retry`,
      tone: 'warn',
    });
  }
  // A claim (in-progress) is the worker's own bookkeeping: not part of the story.
}

function alertEntry(task: WithId<Task>, before: WithId<Task> | undefined, gateway: string, add: Add): void {
  const category = task.input?.find((i) => i.valueCoding?.system === CODE_SYSTEMS.alertCategory)?.valueCoding?.code;
  const step = task.businessStatus?.text ?? task.businessStatus?.coding?.[0]?.display;
  const due = task.restriction?.period?.end;
  if (!before) {
    const parts = [category ? `category ${category}` : undefined, due ? `acknowledgement due ${due}` : undefined, step];
    add({ lane: gateway, kind: 'alert', text: `Alert raised: ${parts.filter(Boolean).join(', ')}`, tone: 'warn' });
  } else if (task.status !== before.status) {
    // The alert's states as its Task carries them (docs/clinical-safety.md): requested raised, in-progress
    // acknowledged with the action awaited (CRITICAL, CANCER), completed closed.
    const text =
      task.status === 'in-progress'
        ? 'Alert acknowledged: the action taken is awaited'
        : task.status === 'completed'
          ? before.status === 'in-progress'
            ? 'Action recorded: alert closed'
            : 'Alert acknowledged and closed'
          : `Alert ${statusText(task.status)}`;
    add({ lane: gateway, kind: 'alert', text, tone: task.status === 'completed' ? 'ok' : 'warn' });
  } else if (step && step !== (before.businessStatus?.text ?? before.businessStatus?.coding?.[0]?.display)) {
    add({ lane: gateway, kind: 'alert', text: `Alert escalated: ${step}${due ? `, due ${due}` : ''}`, tone: 'bad' });
  }
}

function hubEntries(resources: WithId<Resource>[], hubUrl: string, correlationId: string): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const audit of resources.filter((r): r is WithId<AuditEvent> => r.resourceType === 'AuditEvent')) {
    const subtype = audit.subtype?.find((c) => c.system === CODE_SYSTEMS.auditSubtype)?.code;
    const regionIn = (role: string) => {
      const id = audit.agent?.find((a) => a.type?.coding?.some((c) => c.code === role))?.who?.identifier;
      return id?.system === SYSTEMS.region ? id.value : undefined;
    };
    const fromRegion = regionIn('110153');
    const toRegion = regionIn('110152');
    const ok = audit.outcome === '0';
    const tone: Tone = ok ? 'ok' : audit.outcome === '4' ? 'bad' : 'warn';
    const resource = refOf(HUB_NODE, `${hubUrl}/fhir`, audit, correlationId);
    const at = audit.recorded;
    if (subtype === 'message-routed') {
      const event = audit.entity?.flatMap((e) => e.detail ?? []).find((d) => d.type === 'event')?.valueString;
      const what = LABEL_TEXT[flowLabelOf(event?.split('|').at(-1))];
      // The hub's own words, up to their first aside: `imaging-midlands could not be reached`.
      const why = (audit.outcomeDesc ?? `outcome ${audit.outcome}`).split(/ \(|; /)[0];
      const result = ok ? 'delivered' : `not delivered (${why})`;
      out.push({
        at,
        lane: fromRegion ? laneOfGateway(fromRegion) : HUB_NODE,
        ...(toRegion ? { toLane: laneOfGateway(toRegion) } : {}),
        kind: 'message',
        text: `Hub routes the ${what} ${fromRegion ?? '?'} → ${toRegion ?? '?'}: ${result}`,
        tone,
        resource,
      });
    } else {
      out.push({ at, lane: HUB_NODE, kind: 'audit', text: auditText(audit), tone: ok ? 'info' : tone, resource });
    }
  }
  return out;
}

function auditText(audit: AuditEvent): string {
  const subtype = audit.subtype?.[0];
  const what = subtype?.display ?? subtype?.code ?? audit.type?.display ?? 'Audit event';
  const who = audit.agent?.find((a) => a.requestor)?.altId;
  return `${what}${who ? ` (by ${who})` : ''}${audit.outcome === '0' ? '' : `: ${audit.outcomeDesc ?? 'failed'}`}`;
}

function lanesFor(
  entries: TimelineEntry[],
  parties: {
    requester: OrganisationInfo | undefined;
    performer: OrganisationInfo | undefined;
    requesterRegion: string | undefined;
    performerRegion: string | undefined;
  },
  topology: FlowTopology,
): Lane[] {
  const organisationLane = (org: OrganisationInfo): Lane => ({
    id: laneOfOrganisation(org.ods),
    label: `${ORGANISATION_ROLE[org.kind ?? ''] ?? 'Organisation'} ${org.ods}`,
    ...(org.name !== org.ods ? { detail: org.name } : {}),
  });
  const gatewayLane = (region: string): Lane => ({
    id: laneOfGateway(region),
    label: `${region[0]?.toUpperCase()}${region.slice(1)} gateway`,
    ...(topology.regions.find((r) => r.id === region)
      ? { detail: topology.regions.find((r) => r.id === region)?.name }
      : {}),
  });
  const wanted: Lane[] = [];
  if (parties.requester) wanted.push(organisationLane(parties.requester));
  if (parties.requesterRegion) wanted.push(gatewayLane(parties.requesterRegion));
  wanted.push({ id: HUB_NODE, label: 'National hub' });
  if (parties.performerRegion && parties.performerRegion !== parties.requesterRegion)
    wanted.push(gatewayLane(parties.performerRegion));
  if (parties.performer && parties.performer.ods !== parties.requester?.ods)
    wanted.push(organisationLane(parties.performer));
  // Any other region the case reached (a clinician elsewhere retrieving the result) gets a lane too.
  for (const region of topology.regions)
    if (
      !wanted.some((l) => l.id === laneOfGateway(region.id)) &&
      entries.some((e) => e.lane === laneOfGateway(region.id) || e.toLane === laneOfGateway(region.id))
    )
      wanted.push(gatewayLane(region.id));
  // The hub's lane stays when nothing crossed regions only if something happened there.
  const used = new Set(entries.flatMap((e) => [e.lane, e.toLane]));
  return wanted.filter(
    (lane) => lane.id !== HUB_NODE || used.has(HUB_NODE) || parties.requesterRegion !== parties.performerRegion,
  );
}
