import type { DiagnosticReport, Endpoint, ImagingStudy, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { DICOM_UID_SYSTEM, forbidden, odsReference, SYSTEMS } from '@imaging/fhir';
import {
  EXAMPLE,
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleFulfilmentTask,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import type { AuthorityFacts, MessageAuthority, StoredCase } from './authority.ts';
import { checkMessageAuthority, isMessageRefusal, MESSAGE_REFUSAL } from './authority.ts';
import { buildMessage } from './build.ts';
import { fulfilmentTaskIdentifier } from './headers.ts';
import type { MessageEventDefinition } from './events.ts';
import { ORDER_REQUEST, REPORT_ISSUED, TASK_UPDATE } from './events.ts';
import { parseMessage } from './parse.ts';

// The directory of the dev topology, as far as these tests need it.
const SERVED_BY: Record<string, string> = {
  N81001: 'imaging-north',
  RN1: 'imaging-north',
  RM1: 'imaging-midlands',
  M81001: 'imaging-midlands',
  S81001: 'imaging-south',
  RS1: 'imaging-south',
};

function check(
  event: MessageEventDefinition,
  [sender, receiver]: [string, string],
  focus: Resource,
  resources: Resource[] = [],
  stored?: StoredCase,
): Promise<MessageAuthority> {
  const bundle = buildMessage({
    event,
    timestamp: '2026-11-23T10:00:00Z',
    sourceService: sender,
    destinationService: receiver,
    focus,
    resources,
    identifierOf: () => undefined,
  });
  const facts: AuthorityFacts = { sender, receiver, serviceOf: async (ods) => SERVED_BY[ods] };
  return checkMessageAuthority(parseMessage(bundle), stored ? { ...facts, stored } : facts);
}

/** Where a refusal points (one FHIRPath per issue), or the sender's role when authorised. */
function verdict(authority: MessageAuthority): string[] | MessageAuthority {
  if (authority.authorised) return authority;
  expect(authority.refusal.issue?.every((i) => i.code === 'forbidden')).toBe(true);
  return (authority.refusal.issue ?? []).flatMap((i) => i.expression ?? []);
}

const NORTH_TO_MIDLANDS: [string, string] = ['imaging-north', 'imaging-midlands'];
const MIDLANDS_TO_NORTH: [string, string] = ['imaging-midlands', 'imaging-north'];
const SOUTH_TO_NORTH: [string, string] = ['imaging-south', 'imaging-north'];

describe('an order-request', () => {
  const order = (changes: Partial<ServiceRequest> = {}) => ({
    ...exampleServiceRequest(changes),
    id: 'order',
  });
  const parts = (task: Partial<Task> = {}) => [
    { ...examplePatient(), id: 'patient' },
    { ...exampleFulfilmentTask(task), id: 'task', focus: { reference: 'ServiceRequest/order' } },
  ];

  it("comes from the requester's region to the performer's: the sender acts as requester", async () => {
    expect(verdict(await check(ORDER_REQUEST, NORTH_TO_MIDLANDS, order(), parts()))).toEqual({
      authorised: true,
      role: 'requester',
    });
  });

  it('is refused from a region that does not serve the requester', async () => {
    expect(verdict(await check(ORDER_REQUEST, ['imaging-south', 'imaging-midlands'], order(), parts()))).toEqual([
      'Bundle.entry[1].resource.requester',
    ]);
  });

  it('is refused to a region that does not serve the performer, or for an unknown one', async () => {
    expect(verdict(await check(ORDER_REQUEST, ['imaging-north', 'imaging-south'], order(), parts()))).toEqual([
      'Bundle.entry[1].resource.performer[0]',
    ]);
    const unknown = order({ performer: [odsReference('ZZZ99')] });
    expect(
      verdict(await check(ORDER_REQUEST, NORTH_TO_MIDLANDS, unknown, parts({ owner: odsReference('ZZZ99') }))),
    ).toEqual(['Bundle.entry[1].resource.performer[0]']);
  });

  it("is refused when its Task names other parties than the order, or the number is not in the requester's namespace", async () => {
    const task = parts({ requester: odsReference('RN1'), owner: odsReference('M81001') });
    expect(verdict(await check(ORDER_REQUEST, NORTH_TO_MIDLANDS, order(), task))).toEqual([
      'Bundle.entry[3].resource.requester',
      'Bundle.entry[3].resource.owner',
    ]);
    const placer = { system: SYSTEMS.placerOrder, value: 'RN1-000001' };
    const borrowed = order({ identifier: [placer] });
    const itsTask = parts({ identifier: [fulfilmentTaskIdentifier(placer)] });
    expect(verdict(await check(ORDER_REQUEST, NORTH_TO_MIDLANDS, borrowed, itsTask))).toEqual([
      'Bundle.entry[1].resource.identifier[0]',
    ]);
  });

  it('is refused when its order carries a second placer order number, even one in its own namespace', async () => {
    const placer = order().identifier ?? [];
    const two = order({ identifier: [...placer, { system: SYSTEMS.placerOrder, value: 'N81001-000999' }] });
    expect(verdict(await check(ORDER_REQUEST, NORTH_TO_MIDLANDS, two, parts()))).toEqual([
      'Bundle.entry[1].resource.identifier[1]',
    ]);
  });

  it("is refused when its Task's identifier is not the one its placer order number gives", async () => {
    // Another order's Task identifier, taken first, would leave that order without its Task when it came.
    const theirs = fulfilmentTaskIdentifier({ system: SYSTEMS.placerOrder, value: 'N81001-000124' });
    for (const identifier of [theirs, { system: SYSTEMS.task, value: 'N81001-000123-fulfil' }]) {
      expect(
        verdict(await check(ORDER_REQUEST, NORTH_TO_MIDLANDS, order(), parts({ identifier: [identifier] }))),
      ).toEqual(['Bundle.entry[3].resource.identifier[0]']);
    }
  });

  it("is the example's: its Task identifier is the one its placer order number gives", () => {
    expect(fulfilmentTaskIdentifier({ system: SYSTEMS.placerOrder, value: EXAMPLE.placerOrder })).toEqual({
      system: SYSTEMS.task,
      value: EXAMPLE.task,
    });
  });
});

describe('a task-update', () => {
  const task = (changes: Partial<Task> = {}) => exampleFulfilmentTask({ status: 'in-progress', ...changes });
  const stored = (changes: Partial<StoredCase> = {}): StoredCase => ({
    requester: 'N81001',
    performer: 'RM1',
    peer: 'imaging-midlands',
    ...changes,
  });

  it("with progress comes from the owner's region: the sender acts as performer", async () => {
    expect(verdict(await check(TASK_UPDATE, MIDLANDS_TO_NORTH, task()))).toEqual({
      authorised: true,
      role: 'performer',
    });
    expect(verdict(await check(TASK_UPDATE, MIDLANDS_TO_NORTH, task(), [], stored()))).toEqual({
      authorised: true,
      role: 'performer',
    });
  });

  it("from the requester's region may only cancel", async () => {
    const fromNorth = { ...stored(), peer: 'imaging-north' };
    expect(verdict(await check(TASK_UPDATE, NORTH_TO_MIDLANDS, task({ status: 'cancelled' }), [], fromNorth))).toEqual({
      authorised: true,
      role: 'requester',
    });
    expect(verdict(await check(TASK_UPDATE, NORTH_TO_MIDLANDS, task({ status: 'completed' })))).toEqual([
      'Bundle.entry[1].resource.status',
    ]);
  });

  it("from the requester's region cancels only a Task its stored copy has not started, whatever the message says", async () => {
    const cancel = task({ status: 'cancelled' });
    const atPerformer = (status: string) => stored({ peer: 'imaging-north', status });
    for (const status of ['requested', 'received', 'accepted', 'on-hold', 'cancelled']) {
      expect(verdict(await check(TASK_UPDATE, NORTH_TO_MIDLANDS, cancel, [], atPerformer(status)))).toEqual({
        authorised: true,
        role: 'requester',
      });
    }
    for (const status of ['in-progress', 'completed', 'failed']) {
      expect(verdict(await check(TASK_UPDATE, NORTH_TO_MIDLANDS, cancel, [], atPerformer(status)))).toEqual([
        'Bundle.entry[1].resource.status',
      ]);
    }
    // The performer's own region moves an in-progress Task to cancelled: that is progress, not a cancel.
    const fromMidlands = stored({ status: 'in-progress' });
    expect(verdict(await check(TASK_UPDATE, MIDLANDS_TO_NORTH, cancel, [], fromMidlands))).toEqual({
      authorised: true,
      role: 'performer',
    });
  });

  it('is refused when its Task carries a second identifier in a business system', async () => {
    const second = task({
      identifier: [...(task().identifier ?? []), { system: SYSTEMS.task, value: 'another-task' }],
    });
    expect(verdict(await check(TASK_UPDATE, MIDLANDS_TO_NORTH, second))).toEqual([
      'Bundle.entry[1].resource.identifier[1]',
    ]);
  });

  it('is refused from a region serving neither party, or to one not serving the other party', async () => {
    expect(verdict(await check(TASK_UPDATE, SOUTH_TO_NORTH, task()))).toEqual(['Bundle.entry[1].resource.owner']);
    expect(verdict(await check(TASK_UPDATE, ['imaging-midlands', 'imaging-south'], task()))).toEqual([
      'Bundle.entry[1].resource.requester',
    ]);
  });

  it("goes by the receiver's stored copy, not by what the message claims", async () => {
    // The south claims to own the Task; the north's copy says RM1 owns it and is shared with the midlands.
    const claimed = task({ owner: odsReference('RS1') });
    expect(verdict(await check(TASK_UPDATE, SOUTH_TO_NORTH, claimed))).toEqual({ authorised: true, role: 'performer' });
    expect(verdict(await check(TASK_UPDATE, SOUTH_TO_NORTH, claimed, [], stored()))).toEqual([
      'Bundle.entry[1].resource.identifier',
    ]);
    // A copy shared with the sender still needs the sender to serve one of its parties.
    const sharedWithSouth = stored({ peer: 'imaging-south' });
    expect(verdict(await check(TASK_UPDATE, SOUTH_TO_NORTH, claimed, [], sharedWithSouth))).toEqual([
      'Bundle.entry[1].resource.identifier',
    ]);
  });
});

describe('a report-issued', () => {
  const order = exampleServiceRequest();
  const report = (changes: Partial<DiagnosticReport> = {}) => ({ ...exampleDiagnosticReport(changes), id: 'report' });
  const study = (changes: Partial<ImagingStudy> = {}) => ({
    ...exampleImagingStudy(changes),
    id: 'study',
    endpoint: [{ reference: 'Endpoint/endpoint' }],
  });
  const endpoint = (changes: Partial<Endpoint> = {}) => ({ ...exampleEndpoint(changes), id: 'endpoint' });
  const stored: StoredCase = { requester: 'N81001', performer: 'RM1', peer: 'imaging-midlands' };

  it("comes from the performer's region with its studies and endpoints: the sender acts as performer", async () => {
    const authority = await check(REPORT_ISSUED, MIDLANDS_TO_NORTH, report(), [study(), endpoint()], stored);
    expect(verdict(authority)).toEqual({ authorised: true, role: 'performer' });
  });

  it('is refused at the hub when it names a performer, an identifier or an endpoint of another region', async () => {
    expect(verdict(await check(REPORT_ISSUED, SOUTH_TO_NORTH, report()))).toEqual([
      'Bundle.entry[1].resource.performer[0]',
      'Bundle.entry[1].resource.identifier[0]',
    ]);
    const south = report({
      performer: [odsReference('RS1')],
      identifier: [{ system: SYSTEMS.report, value: 'RS1-1' }],
    });
    expect(verdict(await check(REPORT_ISSUED, SOUTH_TO_NORTH, south, [study(), endpoint()]))).toEqual([
      'Bundle.entry[3].resource.managingOrganization',
    ]);
  });

  it('is refused by the receiver for an order the sender does not perform, whatever the report claims', async () => {
    const south = report({
      performer: [odsReference('RS1')],
      identifier: [{ system: SYSTEMS.report, value: 'RS1-1' }],
    });
    expect(verdict(await check(REPORT_ISSUED, SOUTH_TO_NORTH, south))).toEqual({ authorised: true, role: 'performer' });
    expect(verdict(await check(REPORT_ISSUED, SOUTH_TO_NORTH, south, [], stored))).toEqual([
      'Bundle.entry[1].resource.basedOn[0]',
    ]);
    const sharedWithSouth = { ...stored, peer: 'imaging-south' };
    expect(verdict(await check(REPORT_ISSUED, SOUTH_TO_NORTH, south, [], sharedWithSouth))).toEqual([
      'Bundle.entry[1].resource.basedOn[0]',
      'Bundle.entry[1].resource.performer[0]',
      'Bundle.entry[1].resource.identifier[0]',
    ]);
  });

  it('is refused, at the hub and by the receiver, when an entry carries a second identifier in a business system', async () => {
    // A second report identifier in another performer's namespace: only the first was checked, and the
    // planted one would match that performer's later report, which would then never be stored.
    const planted = report({
      identifier: [...(report().identifier ?? []), { system: SYSTEMS.report, value: 'RS1-REP-000001' }],
    });
    for (const receiverCopy of [undefined, stored]) {
      expect(
        verdict(await check(REPORT_ISSUED, MIDLANDS_TO_NORTH, planted, [study(), endpoint()], receiverCopy)),
      ).toEqual(['Bundle.entry[1].resource.identifier[1]']);
    }
    // A second Study Instance UID (another provider's study), or a second accession number.
    for (const system of [DICOM_UID_SYSTEM, SYSTEMS.accession]) {
      const twoUids = study({
        identifier: [...(study().identifier ?? []), { system, value: 'urn:oid:1.2.826.0.1.3680043.99' }],
      });
      expect(verdict(await check(REPORT_ISSUED, MIDLANDS_TO_NORTH, report(), [twoUids, endpoint()], stored))).toEqual([
        'Bundle.entry[2].resource.identifier[2]',
      ]);
    }
    // An Endpoint is matched on whatever identifier it carries: it carries one.
    const twoIds = endpoint({
      identifier: [
        { system: 'https://rm1.example/endpoints', value: 'pacs-1' },
        { system: 'https://other.example/endpoints', value: 'pacs-1' },
      ],
    });
    expect(verdict(await check(REPORT_ISSUED, MIDLANDS_TO_NORTH, report(), [study(), twoIds], stored))).toEqual([
      'Bundle.entry[3].resource.identifier[1]',
    ]);
    // One identifier of each system, and identifiers of other systems, are as before.
    const other = report({
      identifier: [...(report().identifier ?? []), { system: 'https://rm1.example/ris', value: 'R-1' }],
    });
    expect(verdict(await check(REPORT_ISSUED, MIDLANDS_TO_NORTH, other, [study(), endpoint()], stored))).toEqual({
      authorised: true,
      role: 'performer',
    });
  });

  it('is based on exactly one order, and its studies on that order alone', async () => {
    const two = report({
      basedOn: [
        ...(report().basedOn ?? []),
        { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-9' } },
      ],
    });
    expect(verdict(await check(REPORT_ISSUED, MIDLANDS_TO_NORTH, two, [], stored))).toEqual([
      'Bundle.entry[1].resource.basedOn',
    ]);
    const other = study({
      basedOn: [{ type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-9' } }],
    });
    expect(verdict(await check(REPORT_ISSUED, MIDLANDS_TO_NORTH, report(), [other], stored))).toEqual([
      'Bundle.entry[2].resource.basedOn',
    ]);
    expect(order.identifier?.[0]?.value).toBe(report().basedOn?.[0]?.identifier?.value);
  });
});

describe('a refusal', () => {
  it('is a 403 whose issues carry the message-refusal coding, which tells it from other 403s', async () => {
    const authority = await check(TASK_UPDATE, SOUTH_TO_NORTH, exampleFulfilmentTask());
    if (authority.authorised) throw new Error('expected a refusal');
    expect(authority.refusal.id).toBe('forbidden');
    expect(authority.refusal.issue?.[0]?.details).toMatchObject({ coding: [MESSAGE_REFUSAL] });
    expect(authority.refusal.issue?.[0]?.details?.text).toContain('imaging-south serves neither the owner (RM1)');
    expect(isMessageRefusal(authority.refusal)).toBe(true);
    expect(isMessageRefusal(forbidden('Insufficient scope'))).toBe(false);
  });
});
