import type {
  Bundle,
  CapabilityStatement,
  CapabilityStatementRestResource,
  Patient,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  CANONICAL_BASE,
  CODE_SYSTEMS,
  identifierParamCode,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  randomTestNhsNumber,
  SYSTEMS,
} from '@imaging/fhir';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { note, recordDeviation, requireTarget } from '../suite/context.ts';
import type { RawAnswer } from '../suite/raw-fhir.ts';
import { describeAnswer, locationId, matchIds, rawFhir } from '../suite/raw-fhir.ts';

/**
 * Group 2: what the server's CapabilityStatement declares, against what it does, for everything the
 * pathway relies on. Plain HTTP, no adapter: HttpStore's normalisations would hide the differences
 * this group exists to find. Each check first reads the declaration, then exercises it.
 */
const target = requireTarget();
const fhir = rawFhir(target.base);
const run = randomUUID().slice(0, 8);
let seq = 0;
const unique = (label: string) => `cap-${run}-${label}-${++seq}`;
const SUITE_SYSTEM = `${CANONICAL_BASE}/Id/conformance`;
const ACCESS_SYSTEM = `${CANONICAL_BASE}/CodeSystem/conformance-access`;

let capability: CapabilityStatement;
const declared = (type: string): CapabilityStatementRestResource | undefined =>
  capability.rest?.[0]?.resource?.find((r) => r.type === type);

async function created<T extends Resource>(resource: T, ifNoneExist?: string): Promise<T & { id: string }> {
  const answer = await fhir.create(resource, ifNoneExist);
  expect(answer.status, `create ${resource.resourceType}: ${describeAnswer(answer)}`).toBe(201);
  const id = answer.body?.id ?? locationId(answer, resource.resourceType);
  expect(id, 'the created resource or its Location').toBeTruthy();
  return { ...(answer.body ?? resource), id: id as string } as T & { id: string };
}

function expectSearchset(answer: RawAnswer<Bundle>, what: string): Bundle {
  expect(answer.status, `${what}: ${describeAnswer(answer)}`).toBe(200);
  expect(answer.body?.resourceType).toBe('Bundle');
  expect(answer.body?.type).toBe('searchset');
  return answer.body as Bundle;
}

beforeAll(async () => {
  const answer = await fhir.get<CapabilityStatement>('metadata');
  expect(answer.status).toBe(200);
  capability = answer.body as CapabilityStatement;
});

describe('CapabilityStatement', () => {
  it('is an R4 (4.0.x) server capability statement with a RESTful server part', () => {
    expect(capability.resourceType).toBe('CapabilityStatement');
    expect(capability.fhirVersion).toMatch(/^4\.0\./);
    expect(capability.kind).toMatch(/^(instance|capability)$/);
    expect(capability.format).toEqual(expect.arrayContaining([expect.stringMatching(/json/)]));
    expect(capability.rest?.[0]?.mode).toBe('server');
    note(`software: ${target.software}`);
  });

  it.each([
    'Patient',
    'ServiceRequest',
    'Task',
    'ImagingStudy',
    'DiagnosticReport',
    'Endpoint',
    'Organization',
    'DocumentReference',
    'AuditEvent',
    'Basic',
    'Bundle',
  ])('declares %s with read, create, update and search-type', (type) => {
    const codes = (declared(type)?.interaction ?? []).map((i) => i.code);
    expect(codes, `${type} interactions`).toEqual(expect.arrayContaining(['read', 'create', 'update', 'search-type']));
  });
});

describe('conditional create (If-None-Exist)', () => {
  it('is declared, and a repeat with the same business identifier returns the first resource and stores nothing new', async () => {
    for (const type of [
      'Patient',
      'ServiceRequest',
      'Task',
      'ImagingStudy',
      'DiagnosticReport',
      'Endpoint',
      'Bundle',
      'DocumentReference',
    ]) {
      expect(declared(type)?.conditionalCreate, `${type}.conditionalCreate`).toBe(true);
    }
    const value = unique('cond');
    const patient: Patient = {
      resourceType: 'Patient',
      identifier: [{ system: SUITE_SYSTEM, value }],
      gender: 'female',
    };
    const query = `identifier=${encodeURIComponent(`${SUITE_SYSTEM}|${value}`)}`;
    const first = await created(patient, query);
    const again = await fhir.create({ ...patient, gender: 'male' }, query);
    expect(again.status, `repeat: ${describeAnswer(again)}`).toBe(200);
    expect(again.body?.id ?? locationId(again, 'Patient')).toBe(first.id);
    const found = expectSearchset(await fhir.search('Patient', query), 'search by identifier');
    expect(matchIds(found)).toEqual([first.id]);
    expect((found.entry?.[0]?.resource as Patient | undefined)?.gender).toBe('female');
  });
});

describe('versioned update (If-Match)', () => {
  it('is declared, and the current version in If-Match updates to version 2', async () => {
    expect(declared('Task')?.versioning).toMatch(/^versioned(-update)?$/);
    const v1 = await created<Task>({ resourceType: 'Task', status: 'requested', intent: 'order' });
    const answer = await fhir.request<Task>('PUT', `Task/${v1.id}`, {
      body: { ...v1, status: 'accepted' },
      headers: { 'If-Match': 'W/"1"' },
    });
    expect(answer.status, describeAnswer(answer)).toBe(200);
    expect(answer.headers.get('ETag')).toBe('W/"2"');
  });

  it('a stale version in If-Match is refused with 412 and changes nothing', async () => {
    const v1 = await created<Task>({ resourceType: 'Task', status: 'requested', intent: 'order' });
    const moved = await fhir.request('PUT', `Task/${v1.id}`, {
      body: { ...v1, status: 'accepted' },
      headers: { 'If-Match': 'W/"1"' },
    });
    expect(moved.status).toBe(200);
    const stale = await fhir.request('PUT', `Task/${v1.id}`, {
      body: { ...v1, status: 'rejected' },
      headers: { 'If-Match': 'W/"1"' },
    });
    if (stale.status === 409 && target.kind === 'hapi') recordDeviation('hapi', 'stale-if-match-409');
    else expect(stale.status, describeAnswer(stale)).toBe(412);
    expect((stale.body as { resourceType?: string } | undefined)?.resourceType).toBe('OperationOutcome');
    const current = await fhir.get<Task>(`Task/${v1.id}`);
    expect(current.body?.status).toBe('accepted');
    expect(current.body?.meta?.versionId).toBe('2');
  });
});

/**
 * Every search parameter the services use, each proven on two resources made for it: the one that
 * should match and one that should not. Both ids go in `_id`, so the answer is exact on a server full
 * of other data, and a server that ignored the parameter would return both.
 */
interface SearchCase {
  type: string;
  /** As the services write it (`owner:identifier` included). */
  param: string;
  make(value: string, matching: boolean): Promise<Resource> | Resource;
  /** The value searched for, given the unique value and the resource made to match. */
  value(value: string, match: Resource): string;
}

const reference = (type: string, id: string) => ({ reference: `${type}/${id}` });
const codeOf = (system: string, code: string) => ({ coding: [{ system, code }] });
const task = (extra: Partial<Task>): Task => ({ resourceType: 'Task', status: 'requested', intent: 'order', ...extra });
const orderFor = (value: string): ServiceRequest => ({
  resourceType: 'ServiceRequest',
  status: 'active',
  intent: 'order',
  identifier: [{ system: SYSTEMS.placerOrder, value }],
  subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: randomTestNhsNumber() } },
});
const nhsNumbers = new Map<string, string>();
const nhsNumberFor = (value: string): string => {
  let nhsNumber = nhsNumbers.get(value);
  if (nhsNumber === undefined) {
    nhsNumber = randomTestNhsNumber();
    nhsNumbers.set(value, nhsNumber);
  }
  return nhsNumber;
};
const other = (value: string, matching: boolean) => (matching ? value : `${value}-other`);

const SEARCH_CASES: SearchCase[] = [
  {
    type: 'Task',
    param: 'identifier',
    make: (v, m) => task({ identifier: [{ system: SYSTEMS.task, value: other(v, m) }] }),
    value: (v) => `${SYSTEMS.task}|${v}`,
  },
  {
    type: 'Task',
    param: 'status',
    make: (_, m) => task({ status: m ? 'in-progress' : 'requested' }),
    value: () => 'in-progress,accepted',
  },
  {
    type: 'Task',
    param: 'code',
    make: (_, m) => task({ code: codeOf(CODE_SYSTEMS.taskCode, m ? 'deliver-message' : 'acknowledge-result') }),
    value: () => `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
  },
  {
    type: 'Task',
    param: 'focus',
    make: async (v, m) => task({ focus: reference('ServiceRequest', (await created(orderFor(`${v}-${m}`))).id) }),
    value: (_, match) => (match as Task).focus?.reference as string,
  },
  {
    type: 'Task',
    param: 'owner:identifier',
    make: (v, m) => task({ owner: { identifier: { system: ODS_SYSTEM, value: other(v, m) } } }),
    value: (v) => `${ODS_SYSTEM}|${v}`,
  },
  {
    type: 'Task',
    param: 'requester:identifier',
    make: (v, m) => task({ requester: { identifier: { system: ODS_SYSTEM, value: other(v, m) } } }),
    value: (v) => `${ODS_SYSTEM}|${v}`,
  },
  {
    type: 'Task',
    param: '_security',
    make: (v, m) => task({ meta: { security: [{ system: ACCESS_SYSTEM, code: other(v, m) }] } }),
    value: (v) => `${ACCESS_SYSTEM}|${v}`,
  },
  {
    type: 'Patient',
    param: 'identifier',
    make: (v, m) => ({
      resourceType: 'Patient',
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumberFor(other(v, m)) }],
    }),
    value: (v) => `${NHS_NUMBER_SYSTEM}|${nhsNumberFor(v)}`,
  },
  {
    type: 'ServiceRequest',
    param: 'identifier',
    make: (v, m) => orderFor(other(v, m)),
    value: (v) => `${SYSTEMS.placerOrder}|${v}`,
  },
  {
    type: 'ImagingStudy',
    param: 'identifier',
    make: (v, m) => ({
      resourceType: 'ImagingStudy',
      status: 'available',
      subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: '9000000009' } },
      identifier: [{ system: SYSTEMS.accession, value: other(v, m) }],
    }),
    value: (v) => `${SYSTEMS.accession}|${v}`,
  },
  {
    type: 'DiagnosticReport',
    param: 'identifier',
    make: (v, m) => ({
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'CT chest' },
      identifier: [{ system: SYSTEMS.report, value: other(v, m) }],
    }),
    value: (v) => `${SYSTEMS.report}|${v}`,
  },
  {
    type: 'Endpoint',
    param: 'identifier',
    make: (v, m) => endpoint({ identifier: [{ system: SYSTEMS.serviceId, value: other(v, m) }] }),
    value: (v) => `${SYSTEMS.serviceId}|${v}`,
  },
  {
    type: 'Endpoint',
    param: 'status',
    make: (_, m) => endpoint({ status: m ? 'active' : 'off' }),
    value: () => 'active',
  },
  {
    type: 'Organization',
    param: 'identifier',
    make: (v, m) => ({ resourceType: 'Organization', identifier: [{ system: SYSTEMS.region, value: other(v, m) }] }),
    value: (v) => `${SYSTEMS.region}|${v}`,
  },
  {
    type: 'DocumentReference',
    param: 'subject:identifier',
    make: (v, m) =>
      pointer({ subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumberFor(other(v, m)) } } }),
    value: (v) => `${NHS_NUMBER_SYSTEM}|${nhsNumberFor(v)}`,
  },
  {
    type: 'DocumentReference',
    param: 'type',
    make: (_, m) => pointer({ type: codeOf(CODE_SYSTEMS.pointerKind, m ? 'ImagingStudy' : 'DiagnosticReport') }),
    value: () => `${CODE_SYSTEMS.pointerKind}|ImagingStudy`,
  },
  {
    type: 'Basic',
    param: 'code',
    make: (_, m) => ({ resourceType: 'Basic', code: codeOf(CODE_SYSTEMS.basicKind, m ? 'client-assertion' : 'other') }),
    value: () => `${CODE_SYSTEMS.basicKind}|client-assertion`,
  },
  {
    type: 'Basic',
    param: 'created',
    make: (_, m) => ({ resourceType: 'Basic', code: { text: 'x' }, created: m ? '2020-01-01' : '2030-01-01' }),
    value: () => 'lt2025-01-01',
  },
  {
    type: 'Bundle',
    param: 'identifier',
    make: (v, m) => ({
      resourceType: 'Bundle',
      type: 'message',
      identifier: { system: SYSTEMS.messageRequest, value: other(v, m) },
      entry: [
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: {
            resourceType: 'MessageHeader',
            eventCoding: { system: CODE_SYSTEMS.messageEvent, code: 'task-update' },
            source: { endpoint: 'conformance' },
          },
        },
      ],
    }),
    value: (v) => `${SYSTEMS.messageRequest}|${v}`,
  },
];

function endpoint(extra: Record<string, unknown>): Resource {
  return {
    resourceType: 'Endpoint',
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    payloadType: [{ text: 'FHIR' }],
    address: 'https://gateway.example/fhir',
    ...extra,
  } as Resource;
}

function pointer(extra: Record<string, unknown>): Resource {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    content: [{ attachment: { url: 'https://gateway.example/fhir/ImagingStudy/1' } }],
    ...extra,
  } as Resource;
}

/** The parameter as this server is asked it: on HAPI, `x:identifier` is the custom `x-identifier`. */
function asSent(param: string): string {
  const m = /^([a-z-]+):identifier$/.exec(param);
  return m && target.kind === 'hapi' ? identifierParamCode(m[1] as string) : param;
}

describe('search parameters the services use', () => {
  it.each(SEARCH_CASES.map((c) => [`${c.type}?${c.param}`, c] as const))(
    '%s is declared and finds exactly its match',
    async (_, c) => {
      const sent = asSent(c.param);
      const base = sent.split(':')[0] as string;
      const params = (declared(c.type)?.searchParam ?? []).map((p) => p.name);
      expect(params, `${c.type} search parameters in the CapabilityStatement`).toContain(base);
      const value = unique(c.param.replace(/[^a-z]/gi, ''));
      const match = await created(await c.make(value, true));
      const decoy = await created(await c.make(value, false));
      const answer = await fhir.search(c.type, { [sent]: c.value(value, match), _id: `${match.id},${decoy.id}` });
      const bundle = expectSearchset(answer, `${c.type}?${sent}`);
      expect(matchIds(bundle)).toEqual([match.id]);
    },
  );

  it('_sort=_lastUpdated and -_lastUpdated order the matches by when they were written', async () => {
    const value = unique('sort');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await created(task({ identifier: [{ system: SUITE_SYSTEM, value }] }))).id);
    const query = `identifier=${encodeURIComponent(`${SUITE_SYSTEM}|${value}`)}`;
    expect(matchIds(expectSearchset(await fhir.search('Task', `${query}&_sort=_lastUpdated`), 'ascending'))).toEqual(
      ids,
    );
    expect(matchIds(expectSearchset(await fhir.search('Task', `${query}&_sort=-_lastUpdated`), 'descending'))).toEqual(
      [...ids].reverse(),
    );
  });

  it('a search straight after a write sees it (Cache-Control: no-cache on every search)', async () => {
    const value = unique('cache');
    const query = `identifier=${encodeURIComponent(`${SUITE_SYSTEM}|${value}`)}`;
    const first = await created(task({ identifier: [{ system: SUITE_SYSTEM, value }] }));
    expect(matchIds(expectSearchset(await fhir.search('Task', query), 'first search'))).toEqual([first.id]);
    const second = await created(task({ identifier: [{ system: SUITE_SYSTEM, value }] }));
    expect(matchIds(expectSearchset(await fhir.search('Task', query), 'the same search again')).sort()).toEqual(
      [first.id, second.id].sort(),
    );
  });
});

describe('paging', () => {
  it('_count pages the matches, and following next links reaches each exactly once', async () => {
    const value = unique('paging');
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await created(task({ identifier: [{ system: SUITE_SYSTEM, value }] }))).id);
    let page = expectSearchset(
      await fhir.search('Task', { identifier: `${SUITE_SYSTEM}|${value}`, _count: '2' }),
      'first page',
    );
    const seen: string[] = [];
    for (let pages = 1; ; pages++) {
      const ids = matchIds(page);
      expect(ids.length, `page ${pages} holds at most _count matches`).toBeLessThanOrEqual(2);
      seen.push(...ids);
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      expect(new URL(next).origin, 'a next link on the same server').toBe(new URL(target.base).origin);
      expect(pages, 'paging ends').toBeLessThan(10);
      page = expectSearchset(await fhir.follow(next), `page ${pages + 1}`);
    }
    expect(seen.sort()).toEqual([...made].sort());
  });
});

describe('transaction', () => {
  it('is declared, and urn:uuid references between entries become the new ids', async () => {
    expect((capability.rest?.[0]?.interaction ?? []).map((i) => i.code)).toContain('transaction');
    const patientUrl = `urn:uuid:${randomUUID()}`;
    const taskValue = unique('tx');
    const answer = await fhir.request<Bundle>('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: patientUrl,
            resource: { resourceType: 'Patient', identifier: [{ system: SUITE_SYSTEM, value: unique('tx-patient') }] },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: `urn:uuid:${randomUUID()}`,
            resource: task({
              identifier: [{ system: SUITE_SYSTEM, value: taskValue }],
              for: { reference: patientUrl },
            }),
            request: { method: 'POST', url: 'Task', ifNoneExist: `identifier=${SUITE_SYSTEM}|${taskValue}` },
          },
        ],
      },
    });
    expect(answer.status, describeAnswer(answer)).toBe(200);
    expect(answer.body?.type).toBe('transaction-response');
    const locations = (answer.body?.entry ?? []).map((e) => e.response?.location ?? '');
    const patientId = /Patient\/([^/]+)/.exec(locations[0] ?? '')?.[1];
    const taskId = /Task\/([^/]+)/.exec(locations[1] ?? '')?.[1];
    expect(patientId && taskId, `locations ${locations.join(', ')}`).toBeTruthy();
    const stored = await fhir.get<Task>(`Task/${taskId}`);
    expect(stored.body?.for?.reference).toBe(`Patient/${patientId}`);
  });
});

describe('_include', () => {
  it('is declared for Task:focus, and brings the focus in as an included entry', async () => {
    const includes = declared('Task')?.searchInclude ?? [];
    expect(
      includes.includes('Task:focus') || includes.includes('*'),
      `Task searchInclude: ${includes.join(', ')}`,
    ).toBe(true);
    const order = await created(orderFor(unique('include')));
    const t = await created(task({ focus: reference('ServiceRequest', order.id) }));
    const bundle = expectSearchset(await fhir.search('Task', { _id: t.id, _include: 'Task:focus' }), '_include');
    expect(matchIds(bundle)).toEqual([t.id]);
    const included = (bundle.entry ?? [])
      .filter((e) => e.search?.mode === 'include')
      .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
    expect(included).toEqual([`ServiceRequest/${order.id}`]);
  });
});

describe('history', () => {
  it('is declared, and lists every version of a resource, newest first', async () => {
    expect((declared('Task')?.interaction ?? []).map((i) => i.code)).toContain('history-instance');
    const v1 = await created<Task>(task({ description: 'one' }));
    let current: Task = v1;
    for (const [version, description] of [
      ['1', 'two'],
      ['2', 'three'],
    ] as const) {
      const answer = await fhir.request<Task>('PUT', `Task/${v1.id}`, {
        body: { ...current, description },
        headers: { 'If-Match': `W/"${version}"` },
      });
      expect(answer.status, describeAnswer(answer)).toBe(200);
      current = answer.body ?? { ...current, description };
    }
    const history = await fhir.get<Bundle>(`Task/${v1.id}/_history`);
    expect(history.status, describeAnswer(history)).toBe(200);
    expect(history.body?.type).toBe('history');
    const versions = (history.body?.entry ?? []).map((e) => e.resource?.meta?.versionId);
    expect(versions).toEqual(['3', '2', '1']);
    expect((history.body?.entry ?? []).map((e) => (e.resource as Task | undefined)?.description)).toEqual([
      'three',
      'two',
      'one',
    ]);
  });
});
