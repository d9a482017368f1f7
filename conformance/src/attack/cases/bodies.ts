import { NHS_NUMBER_SYSTEM, randomTestNhsNumber, SYSTEMS } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { ACCESS_SYSTEM } from '@imaging/regional-gateway/testing';
import type { Resource } from '@medplum/fhirtypes';
import type { AttackRequest, Credential } from '../surface.ts';
import type { AttackWorld } from '../world.ts';
import type { AttackCase } from './case.ts';
import {
  as,
  BAD_REQUEST,
  batchOf,
  CONFLICT,
  CREATED,
  get,
  HUB,
  INVALID,
  NOT_FOUND,
  otherPracticeOrder,
  post,
  UNPROCESSABLE,
} from './case.ts';
import { pointerBody } from './endpoints.ts';
import { forgedTaskUpdate, routed } from './messages.ts';

/**
 * Bad bodies and bad ids: JSON nested too deep, too big, of the wrong shape or type, with control
 * characters, unicode the stores may mishandle, huge strings, ids and references that walk paths. Each
 * is sent to a write of the gateway and of the hub with real credentials, so only the body is wrong.
 */

const GP = as('gp-n81001');
const RIS = as('ris-rm1');

const body = (
  name: string,
  service: AttackCase['service'],
  credential: Credential,
  request: (w: AttackWorld) => AttackRequest | Promise<AttackRequest>,
  expect: AttackCase['expect'],
  mayWrite = false,
): AttackCase => ({ family: 'bodies', name, service, credential, request, expect, ...(mayWrite ? { mayWrite } : {}) });

const nested = (depth: number) => `${'{"extension":['.repeat(depth)}${']}'.repeat(depth)}`;
/** A Patient whose first extension nests `depth` levels deeper. */
const deepPatient = (depth: number) =>
  `{"resourceType":"Patient","identifier":[{"system":"${NHS_NUMBER_SYSTEM}","value":"${randomTestNhsNumber()}"}],"extension":[${nested(depth)}]}`;
const freshPatient = (overrides: Record<string, unknown> = {}) =>
  examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: randomTestNhsNumber() }], ...overrides });
const raw = (path: string, text: string, contentType = 'application/fhir+json'): AttackRequest => ({
  method: 'POST',
  path,
  headers: { 'Content-Type': contentType },
  body: text,
});

/** Case B's Task at the midlands as the RIS last read it, with `change` applied: one thing wrong with it. */
async function taskPut(w: AttackWorld, change: (task: Resource & Record<string, unknown>) => unknown, path?: string) {
  const task = await w.legit<Resource & Record<string, unknown>>('midlands', 'ris-rm1', {
    method: 'GET',
    path: `/fhir/Task/${w.seeded.midlands.B.task}`,
  });
  const version = (task.meta as { versionId?: string } | undefined)?.versionId;
  return {
    method: 'PUT',
    path: path ?? `/fhir/Task/${w.seeded.midlands.B.task}`,
    headers: { 'If-Match': `W/"${version}"` },
    body: change(task),
  };
}

const orderFor = (w: AttackWorld, subject: Record<string, unknown>) =>
  exampleServiceRequest({
    identifier: [{ system: SYSTEMS.placerOrder, value: `N81001-${w.seeded.run}3` }],
    subject,
  });

/** `body` with the element at `path` (dot-separated, numeric parts index arrays) replaced by `value`. */
function replaced(body: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  const keys = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1) as string] = value;
  return copy;
}

/** Elements given a JSON type they cannot have: a list as an object, an object as a string, a string as a number. */
const WRONG_TYPES: readonly {
  what: string;
  service: AttackCase['service'];
  credential: Credential;
  build: (w: AttackWorld) => AttackRequest | Promise<AttackRequest>;
  paths: readonly [string, unknown][];
}[] = [
  {
    what: 'POST Patient',
    service: 'north',
    credential: GP,
    build: () => post('/fhir/Patient', freshPatient()),
    paths: [
      ['identifier', { system: NHS_NUMBER_SYSTEM, value: '9990000018' }],
      ['identifier.0', '9990000018'],
      ['identifier.0.value', 9990000018],
      ['name', { family: 'x' }],
      ['meta', 'x'],
      ['meta.profile', 'x'],
    ],
  },
  {
    what: 'POST ServiceRequest',
    service: 'north',
    credential: GP,
    build: (w) => post('/fhir/ServiceRequest', orderFor(w, { reference: `Patient/${w.seeded.north.A.patient}` })),
    paths: [
      ['identifier', { system: SYSTEMS.placerOrder, value: 'N81001-1' }],
      ['identifier.0.value', 5],
      ['performer', { reference: 'Organization/x' }],
      ['performer.0.identifier', 'RM1'],
      ['requester', 'N81001'],
      ['requester', 7],
      ['performer', [7]],
      ['performer', [true]],
      ['subject', 'Patient/1'],
      ['subject', 7],
      ['code', [{ text: 'CT' }]],
    ],
  },
  {
    what: 'POST ImagingStudy',
    service: 'midlands',
    credential: RIS,
    build: (w) =>
      post('/fhir/ImagingStudy', {
        ...exampleImagingStudy({
          basedOn: [{ reference: `ServiceRequest/${w.seeded.midlands.B.order}` }],
          subject: { reference: `Patient/${w.seeded.midlands.B.patient}` },
          endpoint: [{ reference: `Endpoint/${w.seeded.midlands.A.endpoint}` }],
        }),
      }),
    paths: [
      ['basedOn', { reference: 'ServiceRequest/x' }],
      ['basedOn.0', 'ServiceRequest/x'],
      ['identifier', 'x'],
      ['endpoint', { reference: 'Endpoint/x' }],
      ['subject', 7],
    ],
  },
  {
    what: 'POST DiagnosticReport',
    service: 'midlands',
    credential: RIS,
    build: (w) =>
      post(
        '/fhir/DiagnosticReport',
        exampleDiagnosticReport({
          basedOn: [{ reference: `ServiceRequest/${w.seeded.midlands.B.order}` }],
          subject: { reference: `Patient/${w.seeded.midlands.B.patient}` },
        }),
      ),
    paths: [
      ['basedOn', { reference: 'ServiceRequest/x' }],
      ['identifier', { system: SYSTEMS.report, value: 'RM1-1' }],
      ['performer', 'RM1'],
      ['extension', { url: 'x' }],
      ['extension.0.valueCoding', 'URGENT'],
    ],
  },
  {
    what: 'POST Endpoint',
    service: 'midlands',
    credential: RIS,
    build: () => post('/fhir/Endpoint', exampleEndpoint({ id: undefined })),
    paths: [
      ['identifier', { system: 'urn:ietf:rfc:3986', value: 'x' }],
      ['managingOrganization', 'RM1'],
      ['address', 5],
    ],
  },
  {
    what: 'PUT Task',
    service: 'midlands',
    credential: RIS,
    build: (w) => taskPut(w, (t) => ({ ...t, status: 'in-progress' })),
    paths: [
      ['output', { valueReference: { reference: 'DiagnosticReport/x' } }],
      ['status', 5],
      ['owner', 'RM1'],
      ['owner', 7],
      ['output', [7]],
      ['meta', 'x'],
      ['identifier', 'x'],
      ['businessStatus', ['x']],
    ],
  },
  {
    what: 'POST DocumentReference',
    service: 'hub',
    credential: as('gateway-midlands'),
    build: (w) => post('/fhir/DocumentReference', pointerBody(w, 'midlands', 'midlands')),
    paths: [
      ['content', { attachment: { url: 'x' } }],
      ['content.0.attachment', 'x'],
      ['subject', '9990000018'],
      ['custodian', 5],
      ['subject', 5],
      ['content', [5]],
      ['type.coding', { code: 'DiagnosticReport' }],
      ['masterIdentifier', 'x'],
    ],
  },
  {
    what: 'POST $process-message to the hub',
    service: 'hub',
    credential: as('gateway-south'),
    build: (w) => routed(forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed'), 'imaging-north'),
    paths: [
      ['entry', { resource: { resourceType: 'MessageHeader' } }],
      ['entry.0', 'MessageHeader'],
      ['entry.0.resource', 'MessageHeader'],
      ['entry.0.resource.destination', { endpoint: 'imaging-north' }],
      ['entry.0.resource.eventCoding', 'task-update'],
      ['entry.0.resource.focus', 'urn:uuid:x'],
      ['entry.1.resource.identifier', 'x'],
      ['entry.1.resource.owner', 'RM1'],
      ['entry.1.resource.owner', 7],
      ['entry.1.resource.requester', true],
      ['entry.1.resource.identifier', [7]],
    ],
  },
  {
    what: 'POST $process-message to a gateway',
    service: 'north',
    credential: HUB,
    build: (w) => routed(forgedTaskUpdate(w, 'imaging-midlands', 'imaging-north', 'completed'), 'imaging-north'),
    paths: [
      ['entry', { resource: { resourceType: 'MessageHeader' } }],
      ['entry.0.resource.source', 'imaging-midlands'],
      ['entry.1.resource.identifier', { system: SYSTEMS.task, value: 'x' }],
      ['entry.1.resource.identifier.0.value', 5],
      ['entry.1.resource.focus', 'ServiceRequest/x'],
      ['entry.1.resource.status', ['completed']],
      ['entry.1.resource.owner', 7],
      ['entry.1.resource.focus', 7],
      ['entry.1.resource.output', { valueReference: { reference: 'DiagnosticReport/x' } }],
    ],
  },
];

const WRONG_TYPE_CASES: AttackCase[] = WRONG_TYPES.flatMap(({ what, service, credential, build, paths }) =>
  paths.map(([path, value]) =>
    body(
      `${what} with ${path} as ${JSON.stringify(value)}`,
      service,
      credential,
      async (w) => {
        const request = await build(w);
        return { ...request, body: replaced(request.body, path, value) };
      },
      [400, 403, 422],
    ),
  ),
);

export const BODY_CASES: readonly AttackCase[] = [
  ...WRONG_TYPE_CASES,
  // JSON that is not a resource, or not JSON.
  body('POST Patient nested 65 deep', 'north', GP, () => raw('/fhir/Patient', deepPatient(65)), BAD_REQUEST),
  body('POST Patient nested 100 000 deep', 'north', GP, () => raw('/fhir/Patient', deepPatient(100_000)), [400, 413]),
  body(
    'POST Patient over 1 MiB',
    'north',
    GP,
    () => post('/fhir/Patient', freshPatient({ name: [{ family: 'x'.repeat(1_100_000) }] })),
    [413],
  ),
  body(
    'POST Patient with a 900 kB name',
    'north',
    GP,
    () => post('/fhir/Patient', freshPatient({ name: [{ family: 'x'.repeat(900_000) }] })),
    [201, 400, 422],
    true,
  ),
  body('POST Patient, not JSON', 'north', GP, () => raw('/fhir/Patient', '{"resourceType":"Patient",'), BAD_REQUEST),
  body('POST Patient, an empty body', 'north', GP, () => raw('/fhir/Patient', ''), BAD_REQUEST),
  ...(
    [
      '[]',
      '"Patient"',
      'null',
      '42',
      '{}',
      '{"resourceType":5}',
      '{"resourceType":"Task","status":"requested"}',
    ] as const
  ).map((text) =>
    body(`POST Patient with the body ${text}`, 'north', GP, () => raw('/fhir/Patient', text), BAD_REQUEST),
  ),
  body(
    'POST Patient as text/plain',
    'north',
    GP,
    () => raw('/fhir/Patient', JSON.stringify(freshPatient()), 'text/plain'),
    [415],
  ),
  body(
    'POST Patient as XML',
    'north',
    GP,
    () =>
      raw(
        '/fhir/Patient',
        '<Patient xmlns="http://hl7.org/fhir"><gender value="unknown"/></Patient>',
        'application/fhir+xml',
      ),
    [415],
  ),
  body(
    'POST Patient from a client that reads only XML',
    'north',
    GP,
    () => {
      const request = raw('/fhir/Patient', JSON.stringify(freshPatient()));
      return { ...request, headers: { ...request.headers, Accept: 'application/fhir+xml' } };
    },
    [406],
  ),
  // Wrong types and shapes.
  body(
    'POST Patient with a number for a name',
    'north',
    GP,
    () => post('/fhir/Patient', freshPatient({ name: 42 })),
    INVALID,
  ),
  body(
    'POST Patient with an identifier that is not a list',
    'north',
    GP,
    () =>
      post('/fhir/Patient', {
        ...freshPatient(),
        identifier: { system: NHS_NUMBER_SYSTEM, value: randomTestNhsNumber() },
      }),
    INVALID,
  ),
  body(
    'POST Patient with a birthDate of "yesterday"',
    'north',
    GP,
    () => post('/fhir/Patient', freshPatient({ birthDate: 'yesterday' })),
    INVALID,
  ),
  body(
    'POST Patient with an unknown element',
    'north',
    GP,
    () => post('/fhir/Patient', { ...freshPatient(), secretAccess: true }),
    INVALID,
  ),
  body(
    'POST Patient with __proto__ and constructor members',
    'north',
    GP,
    () =>
      raw(
        '/fhir/Patient',
        `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${JSON.stringify(freshPatient()).slice(1)}`,
      ),
    INVALID,
  ),
  body(
    'POST Patient with an NHS number carrying a search',
    'north',
    GP,
    () =>
      post(
        '/fhir/Patient',
        examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765919&_security=x' }] }),
      ),
    UNPROCESSABLE,
  ),
  body(
    'POST Patient with an id that walks paths',
    'north',
    GP,
    () => post('/fhir/Patient', { ...freshPatient(), id: '../Patient/x' }),
    BAD_REQUEST,
  ),
  // Text the stores may mishandle: control characters and lone surrogates are refused (no store keeps a
  // NUL everywhere, and half a surrogate pair is not Unicode); any other Unicode is kept as it is.
  body(
    'POST Patient with control characters in its name',
    'north',
    GP,
    () =>
      post('/fhir/Patient', freshPatient({ name: [{ family: 'Nul\u0000Bell\u0007Esc\u001b', given: ['\u0008'] }] })),
    BAD_REQUEST,
  ),
  body(
    'POST Patient with right-to-left overrides, emoji and combining marks',
    'north',
    GP,
    () =>
      post('/fhir/Patient', freshPatient({ name: [{ family: '\u202eKCUS\u202c 🩻 Ž̷̢a̵l̸g̶o', given: ['\u{1F9B4}'] }] })),
    [201],
    true,
  ),
  body(
    'POST Patient with a lone surrogate',
    'north',
    GP,
    () =>
      raw(
        '/fhir/Patient',
        JSON.stringify(freshPatient({ name: [{ family: 'PLACEHOLDER' }] })).replace('PLACEHOLDER', '\\ud800'),
      ),
    BAD_REQUEST,
  ),
  // References that walk paths or leave the server.
  ...(
    [
      '../Patient/x',
      'Patient/../../Task/x',
      'Patient/x/_history/1',
      'http://evil.example/fhir/Patient/1',
      'Patient/%2e%2e',
    ] as const
  ).map((reference) =>
    body(
      `POST ServiceRequest for the patient ${reference}`,
      'north',
      GP,
      (w) => post('/fhir/ServiceRequest', orderFor(w, { reference })),
      UNPROCESSABLE,
    ),
  ),
  // A Task update with one thing wrong.
  body(
    'PUT Task without If-Match',
    'midlands',
    RIS,
    async (w) => {
      const { headers: _headers, ...put } = await taskPut(w, (t) => ({ ...t, status: 'in-progress' }));
      return put;
    },
    [428],
  ),
  body(
    'PUT Task with a malformed If-Match',
    'midlands',
    RIS,
    async (w) => ({
      ...(await taskPut(w, (t) => ({ ...t, status: 'in-progress' }))),
      headers: { 'If-Match': 'W/"1", W/"2"; DROP' },
    }),
    BAD_REQUEST,
  ),
  body(
    'PUT Task with a stale If-Match',
    'midlands',
    RIS,
    async (w) => ({
      ...(await taskPut(w, (t) => ({ ...t, status: 'in-progress' }))),
      headers: { 'If-Match': 'W/"999"' },
    }),
    [412],
  ),
  body(
    'PUT Task whose body is another Task',
    'midlands',
    RIS,
    (w) => taskPut(w, (t) => ({ ...t, id: w.seeded.midlands.A.task, status: 'in-progress' })),
    BAD_REQUEST,
  ),
  body(
    'PUT Task whose body has no id',
    'midlands',
    RIS,
    (w) =>
      taskPut(w, (t) => {
        const { id: _, ...rest } = t;
        return { ...rest, status: 'in-progress' };
      }),
    BAD_REQUEST,
  ),
  body('PUT Task with a Patient body', 'midlands', RIS, (w) => taskPut(w, () => freshPatient()), BAD_REQUEST),
  body(
    'PUT Task nested 65 deep',
    'midlands',
    RIS,
    async (w) => ({
      ...(await taskPut(w, (t) => t)),
      body: `{"resourceType":"Task","status":"in-progress","extension":[${nested(65)}]}`,
    }),
    BAD_REQUEST,
  ),
  body(
    'PUT Task with a status that is not one',
    'midlands',
    RIS,
    (w) => taskPut(w, (t) => ({ ...t, status: 'done' })),
    INVALID,
  ),
  body(
    'PUT Task going back to requested',
    'midlands',
    RIS,
    (w) => taskPut(w, (t) => ({ ...t, status: 'requested' })),
    UNPROCESSABLE,
  ),
  body(
    'PUT Task completed without a report',
    'midlands',
    RIS,
    (w) => taskPut(w, (t) => ({ ...t, status: 'completed' })),
    UNPROCESSABLE,
  ),
  body(
    'PUT Task handing it to another owner',
    'midlands',
    RIS,
    (w) =>
      taskPut(w, (t) => ({
        ...t,
        owner: {
          type: 'Organization',
          identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RS1' },
        },
      })),
    UNPROCESSABLE,
  ),
  body(
    'PUT Task completed straight from accepted, with case A’s report',
    'midlands',
    RIS,
    (w) =>
      taskPut(w, (t) => ({
        ...t,
        status: 'completed',
        output: [
          { type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${w.seeded.midlands.A.report}` } },
        ],
      })),
    UNPROCESSABLE,
  ),
  // A Task's output names its own order's results only, whatever its status: B's Task not completed, its
  // status kept or moved on as it may be, with A's report or study is wrong in its output alone.
  body(
    'PUT Task keeping its status, with case A’s report as output',
    'midlands',
    RIS,
    (w) =>
      taskPut(w, (t) => ({
        ...t,
        output: [
          { type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${w.seeded.midlands.A.report}` } },
        ],
      })),
    UNPROCESSABLE,
  ),
  body(
    'PUT Task moved on to in-progress, with case A’s study as output',
    'midlands',
    RIS,
    (w) =>
      taskPut(w, (t) => ({
        ...t,
        status: 'in-progress',
        output: [
          { type: { text: 'study' }, valueReference: { reference: `ImagingStudy/${w.seeded.midlands.A.study}` } },
        ],
      })),
    UNPROCESSABLE,
  ),
  body(
    'PUT Task labelled for another organisation',
    'midlands',
    RIS,
    (w) =>
      taskPut(w, (t) => ({
        ...t,
        meta: {
          ...(t.meta as object),
          security: [{ system: ACCESS_SYSTEM, code: 'M81001' }],
        },
      })),
    UNPROCESSABLE,
  ),
  ...(['..%2FPatient%2Fx', '%2e%2e', 'a%00b', 'x'.repeat(65), '%F0%9F%A9%BB'] as const).map((id) =>
    body(
      `PUT Task/${id.slice(0, 20)}`,
      'midlands',
      RIS,
      (w) => taskPut(w, (t) => ({ ...t, status: 'in-progress' }), `/fhir/Task/${id}`),
      [400, 404, 422],
    ),
  ),
  ...(['..%2F..%2Fmetadata', '%00', 'x'.repeat(65), '..%5CTask'] as const).map((id) =>
    body(`GET Patient/${id.slice(0, 20)}`, 'north', GP, () => get(`/fhir/Patient/${id}`), [400, 404]),
  ),
  body(
    'GET DocumentReference/..%2Fx/$retrieve',
    'hub',
    as('clinician-rs1'),
    () => get('/fhir/DocumentReference/..%2Fx/$retrieve'),
    [400, 404],
  ),
  // Interactions and types the servers do not offer.
  body('GET Observation', 'north', GP, () => get('/fhir/Observation'), NOT_FOUND),
  body(
    'DELETE Task',
    'midlands',
    RIS,
    (w) => ({ method: 'DELETE', path: `/fhir/Task/${w.seeded.midlands.B.task}` }),
    [405],
  ),
  body(
    'PATCH Task',
    'midlands',
    RIS,
    (w) => ({
      method: 'PATCH',
      path: `/fhir/Task/${w.seeded.midlands.B.task}`,
      headers: { 'Content-Type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/status', value: 'cancelled' }]),
    }),
    [405, 415],
  ),
  body(
    'POST Task',
    'midlands',
    RIS,
    () => post('/fhir/Task', { resourceType: 'Task', status: 'requested', intent: 'order' }),
    [405],
  ),
  body(
    'POST a transaction Bundle to the base',
    'north',
    GP,
    () => post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [] }),
    [400],
  ),
  // A batch carries reads only: its writes are each refused in their entry, and nothing is written.
  body(
    'POST a batch of writes to the base: a patient, an order, a Task cancelled',
    'north',
    GP,
    (w) =>
      post('/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } },
          { request: { method: 'POST', url: 'ServiceRequest' }, resource: { resourceType: 'ServiceRequest' } },
          {
            request: { method: 'PUT', url: `Task/${w.seeded.north.A.task}`, ifMatch: 'W/"1"' },
            resource: { resourceType: 'Task', id: w.seeded.north.A.task, status: 'cancelled' },
          },
        ],
      }),
    [200],
  ),
  body(
    'POST a batch of 101 reads to the base',
    'north',
    GP,
    () => batchOf(Array.from({ length: 101 }, () => 'Task')),
    [400],
  ),
  body(
    'POST a batch whose reads step out of the FHIR base or name another host',
    'north',
    GP,
    () => batchOf(['../.well-known/jwks.json', '%2e%2e/health', 'http://127.0.0.1:5432/', '//evil.example/x']),
    [200],
  ),
  // A Task's own history is a read of its versions (answered to a party to it); a type's or the server's is not served.
  body(
    'GET the history of its own Task',
    'midlands',
    RIS,
    (w) => get(`/fhir/Task/${w.seeded.midlands.B.task}/_history`),
    [200],
  ),
  body('GET the history of every Task', 'midlands', RIS, () => get('/fhir/Task/_history'), [400, 404, 405]),
  body('GET the history of the whole server', 'midlands', RIS, () => get('/fhir/_history'), [404, 405]),
  // Messages and pointers.
  body(
    'POST $process-message to the hub: a transaction, not a message',
    'hub',
    as('gateway-south'),
    () => ({ ...routed({ resourceType: 'Bundle', type: 'transaction', entry: [] }, 'imaging-north') }),
    INVALID,
  ),
  body(
    'POST $process-message to the hub: a message with no entries',
    'hub',
    as('gateway-south'),
    () => routed({ resourceType: 'Bundle', type: 'message', entry: [] }, 'imaging-north'),
    INVALID,
  ),
  body(
    'POST $process-message to the hub: 5000 empty entries',
    'hub',
    as('gateway-south'),
    (w) => {
      const bundle = forgedTaskUpdate(w, 'imaging-south', 'imaging-north', 'completed');
      return routed(
        { ...bundle, entry: [...(bundle.entry ?? []), ...Array.from({ length: 5000 }, () => ({}))] },
        'imaging-north',
      );
    },
    [400, 403, 413, 422],
  ),
  body(
    'POST $process-message to the hub nested 65 deep',
    'hub',
    as('gateway-south'),
    () => ({
      ...routed({ resourceType: 'Bundle', type: 'message' }, 'imaging-north'),
      body: `{"resourceType":"Bundle","type":"message","entry":[${nested(65)}]}`,
    }),
    BAD_REQUEST,
  ),
  body(
    'POST $process-message to a gateway: a transaction, not a message',
    'midlands',
    HUB,
    () => routed({ resourceType: 'Bundle', type: 'transaction', entry: [] }, 'imaging-midlands'),
    INVALID,
  ),
  body(
    'POST $process-message to a gateway: a message of a Patient resource',
    'midlands',
    HUB,
    () => routed({ resourceType: 'Patient' } as never, 'imaging-midlands'),
    INVALID,
  ),
  body(
    "POST ServiceRequest: a placer number with a comma, naming another practice's order after it",
    'north',
    as('gp-n81002'),
    // Looked up unescaped, `N81002-…,<A's placer>` would find case A's order and answer with it.
    (w) => otherPracticeOrder(w, `N81002-${w.seeded.run}9,${w.seeded.placer.A}`, { Prefer: 'return=representation' }),
    INVALID,
  ),
  body(
    'POST DocumentReference: an empty pointer',
    'hub',
    as('gateway-midlands'),
    () =>
      post('/fhir/DocumentReference', {
        resourceType: 'DocumentReference',
        status: 'current',
        content: [{ attachment: {} }],
      }),
    INVALID,
  ),
  body(
    'POST DocumentReference: an invalid NHS number',
    'hub',
    as('gateway-midlands'),
    (w) => {
      const pointer = pointerBody(w, 'midlands', 'midlands');
      return post('/fhir/DocumentReference', {
        ...pointer,
        subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: '1234567890' } },
      });
    },
    INVALID,
  ),
  body(
    'POST DocumentReference: a source that walks out of the gateway',
    'hub',
    as('gateway-midlands'),
    (w) =>
      post(
        '/fhir/DocumentReference',
        pointerBody(w, 'midlands', 'midlands', `${w.urlOf('midlands')}/fhir/../../hub/fhir/DiagnosticReport/x`),
      ),
    [403, 422],
  ),
  body(
    'POST DocumentReference: a source with an encoded traversal',
    'hub',
    as('gateway-midlands'),
    (w) =>
      post(
        '/fhir/DocumentReference',
        pointerBody(w, 'midlands', 'midlands', `${w.urlOf('midlands')}/fhir/DiagnosticReport/..%2F..%2FPatient%2Fx`),
      ),
    [403, 422],
  ),
  body(
    'POST DocumentReference: a source whose id is a dot segment (the gateway’s search, not a result)',
    'hub',
    as('gateway-midlands'),
    (w) =>
      post(
        '/fhir/DocumentReference',
        pointerBody(w, 'midlands', 'midlands', `${w.urlOf('midlands')}/fhir/DiagnosticReport/..`),
      ),
    [403, 422],
  ),
  body(
    'POST DocumentReference: case A’s report again, under case C’s patient (a wrong-patient pointer)',
    'hub',
    as('gateway-midlands'),
    (w) =>
      post('/fhir/DocumentReference', {
        ...pointerBody(w, 'midlands', 'midlands'),
        subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: w.seeded.nhs.C } },
      }),
    CONFLICT,
  ),
  body(
    'POST DocumentReference: a pointer to a Patient',
    'hub',
    as('gateway-midlands'),
    (w) =>
      post(
        '/fhir/DocumentReference',
        pointerBody(w, 'midlands', 'midlands', `${w.urlOf('midlands')}/fhir/Patient/${w.seeded.midlands.A.patient}`),
      ),
    [403, 422],
  ),
  body(
    'POST Patient registering case A’s patient again with a new name (nothing changes)',
    'north',
    GP,
    (w) =>
      post(
        '/fhir/Patient',
        examplePatient({
          identifier: [{ system: NHS_NUMBER_SYSTEM, value: w.seeded.nhs.A }],
          name: [{ family: 'Renamed' }],
        }),
      ),
    CREATED,
  ),
];
