import { NHS_NUMBER_SYSTEM, ODS_SYSTEM, randomTestNhsNumber, SYSTEMS } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { pageTokens } from '@imaging/fhir-http';
import { ACCESS_SYSTEM } from '@imaging/regional-gateway/testing';
import type { AttackRequest, Credential } from '../surface.ts';
import type { AttackWorld } from '../world.ts';
import type { AttackCase } from './case.ts';
import {
  as,
  BAD_REQUEST,
  batchOf,
  FORBIDDEN,
  get,
  HUB,
  NOT_FOUND,
  OK,
  otherPracticeOrder,
  post,
  UNPROCESSABLE,
} from './case.ts';
import { pointerBody } from './endpoints.ts';

/**
 * Across organisations and regions: another organisation's resources by id (404, as if they did not
 * exist), searches, includes and NHS-number lookups that find nothing of theirs (200), writes that point
 * at their resources (422), page tokens of another caller (400), and every client at a gateway or hub
 * endpoint that is not its own (403).
 */

type Copy = 'north' | 'midlands';

const access = (
  name: string,
  service: AttackCase['service'],
  credential: Credential,
  request: (w: AttackWorld) => AttackRequest | Promise<AttackRequest>,
  expect: AttackCase['expect'],
): AttackCase => ({ family: 'access', name, service, credential, request, expect });

/**
 * Case A's copy of each readable type at a gateway; the safety layer's notices: A's alert Communication in
 * the north, B's DM01 breach (its notice to RM1 and its Flag) in the midlands.
 */
const idsOf = (w: AttackWorld, copy: Copy) => {
  const { A: a, B: b } = w.seeded[copy];
  const notices = copy === 'north' ? { Communication: a.notice } : { Communication: b.notice, Flag: b.flag };
  return {
    Patient: a.patient,
    ServiceRequest: a.order,
    Task: a.task,
    ImagingStudy: a.study as string,
    DiagnosticReport: a.report as string,
    ...notices,
  } as Record<Type, string>;
};
const CASE_TYPES = ['Patient', 'ServiceRequest', 'Task', 'ImagingStudy', 'DiagnosticReport'] as const;
type Type = (typeof CASE_TYPES)[number] | 'Communication' | 'Flag';
/** What each gateway holds of the cases: the notices are only where the safety layer wrote them. */
const TYPES: Readonly<Record<Copy, readonly Type[]>> = {
  north: [...CASE_TYPES, 'Communication'],
  midlands: [...CASE_TYPES, 'Communication', 'Flag'],
};

/** What another organisation of the same region tries against case A's copy there. */
function sameRegionOutsider(copy: Copy, client: string): AttackCase[] {
  const them = as(client);
  const at = `${client} at ${copy}`;
  return [
    ...TYPES[copy].map((type) =>
      access(
        `${at} reads case A's ${type} by id`,
        copy,
        them,
        (w) => get(`/fhir/${type}/${idsOf(w, copy)[type]}`),
        NOT_FOUND,
      ),
    ),
    // A resource's versions are no way round its labels: each is the read's 404.
    ...TYPES[copy].flatMap((type) =>
      ['_history/1', '_history'].map((path) =>
        access(
          `${at} reads case A's ${type} ${path}`,
          copy,
          them,
          (w) => get(`/fhir/${type}/${idsOf(w, copy)[type]}/${path}`),
          NOT_FOUND,
        ),
      ),
    ),
    ...TYPES[copy].map((type) => access(`${at} searches ${type}`, copy, them, () => get(`/fhir/${type}`), OK)),
    access(
      `${at} searches the notices about case A's patient`,
      copy,
      them,
      (w) => get(`/fhir/Communication?patient=Patient/${idsOf(w, copy).Patient}`),
      OK,
    ),
    access(
      `${at} searches the notices sent to the case's organisations`,
      copy,
      them,
      () => get(`/fhir/Communication?recipient:identifier=${ODS_SYSTEM}|${copy === 'north' ? 'N81001' : 'RM1'}`),
      OK,
    ),
    access(
      `${at} searches the Flags on case A's patient`,
      copy,
      them,
      (w) => get(`/fhir/Flag?patient=Patient/${idsOf(w, copy).Patient}`),
      OK,
    ),
    access(`${at} searches case A's Task by _id`, copy, them, (w) => get(`/fhir/Task?_id=${idsOf(w, copy).Task}`), OK),
    access(
      `${at} searches Tasks focused on case A's order`,
      copy,
      them,
      (w) => get(`/fhir/Task?focus=ServiceRequest/${idsOf(w, copy).ServiceRequest}`),
      OK,
    ),
    access(
      `${at} searches case A's patient by NHS number`,
      copy,
      them,
      (w) => get(`/fhir/Patient?identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.A}`),
      OK,
    ),
    access(
      `${at} searches Tasks for case A's patient`,
      copy,
      them,
      (w) => get(`/fhir/Task?patient=Patient/${idsOf(w, copy).Patient}`),
      OK,
    ),
    access(
      `${at} searches the orders N81001 requested`,
      copy,
      them,
      () => get(`/fhir/ServiceRequest?requester:identifier=${ODS_SYSTEM}|N81001`),
      OK,
    ),
    access(
      `${at} searches Tasks with their orders included`,
      copy,
      them,
      () => get('/fhir/Task?_include=Task:focus:ServiceRequest'),
      OK,
    ),
    access(
      `${at} searches reports with their orders included`,
      copy,
      them,
      () => get('/fhir/DiagnosticReport?_include=DiagnosticReport:based-on:ServiceRequest'),
      OK,
    ),
    access(
      `${at} searches studies with their orders included`,
      copy,
      them,
      () => get('/fhir/ImagingStudy?_include=ImagingStudy:basedon:ServiceRequest'),
      OK,
    ),
    access(
      `${at} cancels case A's Task`,
      copy,
      them,
      (w) => ({
        method: 'PUT',
        path: `/fhir/Task/${idsOf(w, copy).Task}`,
        headers: { 'If-Match': 'W/"1"' },
        body: { resourceType: 'Task', id: idsOf(w, copy).Task, status: 'cancelled' },
      }),
      NOT_FOUND,
    ),
    // A batch is no way round them either: each entry is the read alone, and the checker sees the whole answer.
    access(
      `${at} batches reads of case A's resources, their versions and the Tasks on its order`,
      copy,
      them,
      (w) =>
        batchOf([
          ...TYPES[copy].flatMap((type) => [
            `${type}/${idsOf(w, copy)[type]}`,
            `${type}/${idsOf(w, copy)[type]}/_history`,
          ]),
          `Task?focus=ServiceRequest/${idsOf(w, copy).ServiceRequest}&_include=Task:focus:ServiceRequest`,
          `Patient?identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.A}`,
        ]),
      OK,
    ),
    access(
      `${at} pages on with gp-n81001's page token`,
      copy,
      them,
      (w) => get(`/fhir/ServiceRequest?_page=${w.seeded.pageTokens.northOrders}`),
      BAD_REQUEST,
    ),
  ];
}

const midlandsOrder = (w: AttackWorld, subject: object, requester = 'M81001') =>
  exampleServiceRequest({
    identifier: [{ system: SYSTEMS.placerOrder, value: `${requester}-${w.seeded.run}4` }],
    subject,
    requester: { type: 'Organization', identifier: { system: ODS_SYSTEM, value: requester } },
  });

/** Changes one character of a token, keeping it well-formed base64url. */
function tampered(token: string): string {
  const i = Math.floor(token.length / 2);
  return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
}

export const ACCESS_CASES: readonly AttackCase[] = [
  ...sameRegionOutsider('north', 'ris-rn1'),
  ...sameRegionOutsider('midlands', 'gp-m81001'),
  access(
    'ris-rn1 at north searches studies with their endpoints included',
    'north',
    as('ris-rn1'),
    () => get('/fhir/ImagingStudy?_include=ImagingStudy:endpoint'),
    OK,
  ),
  access(
    "gp-m81001 at midlands reads RM1's Endpoint (no Endpoint scope)",
    'midlands',
    as('gp-m81001'),
    (w) => get(`/fhir/Endpoint/${w.seeded.midlands.A.endpoint}`),
    FORBIDDEN,
  ),
  access(
    "gp-m81001 at midlands reads the south's order C (RM1's copy)",
    'midlands',
    as('gp-m81001'),
    (w) => get(`/fhir/ServiceRequest/${w.seeded.midlands.C.order}`),
    NOT_FOUND,
  ),
  access(
    "gp-m81001 at midlands searches case C's patient by NHS number",
    'midlands',
    as('gp-m81001'),
    (w) => get(`/fhir/Patient?identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.C}`),
    OK,
  ),
  access(
    "gp-m81001 at midlands cancels case C's Task",
    'midlands',
    as('gp-m81001'),
    (w) => ({
      method: 'PUT',
      path: `/fhir/Task/${w.seeded.midlands.C.task}`,
      headers: { 'If-Match': `W/"${w.seeded.midlands.C.taskVersion}"` },
      body: { resourceType: 'Task', id: w.seeded.midlands.C.task, status: 'cancelled' },
    }),
    NOT_FOUND,
  ),
  // Writes that point at what the caller may not read.
  access(
    "gp-m81001 orders for case A's patient by literal reference",
    'midlands',
    as('gp-m81001'),
    (w) => post('/fhir/ServiceRequest', midlandsOrder(w, { reference: `Patient/${w.seeded.midlands.A.patient}` })),
    UNPROCESSABLE,
  ),
  access(
    "gp-m81001 orders for case A's patient by NHS number",
    'midlands',
    as('gp-m81001'),
    (w) =>
      post(
        '/fhir/ServiceRequest',
        midlandsOrder(w, { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: w.seeded.nhs.A } }),
      ),
    UNPROCESSABLE,
  ),
  access(
    'gp-m81001 orders in the name of N81001',
    'midlands',
    as('gp-m81001'),
    (w) =>
      post('/fhir/ServiceRequest', midlandsOrder(w, { reference: `Patient/${w.seeded.midlands.A.patient}` }, 'N81001')),
    [403, 422],
  ),
  // A case is named by its callers, and its organisations read its whole trail: an order of another
  // organisation must not join it (nor reach another region under its name).
  access(
    "gp-m81001 orders under the north's case A's X-Correlation-ID, to join it and read its trail",
    'midlands',
    as('gp-m81001'),
    (w) =>
      post(
        '/fhir/ServiceRequest',
        midlandsOrder(w, { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: w.seeded.nhs.A } }),
        { 'X-Correlation-ID': w.seeded.north.A.correlation as string },
      ),
    FORBIDDEN,
  ),
  access(
    "gp-n81002 orders under N81001's case A's X-Correlation-ID, to join it and read its trail",
    'north',
    as('gp-n81002'),
    (w) =>
      otherPracticeOrder(w, `N81002-${w.seeded.run}4`, {
        'X-Correlation-ID': w.seeded.north.A.correlation as string,
      }),
    FORBIDDEN,
  ),
  access(
    'gp-m81001 registers a patient labelled for N81001',
    'midlands',
    as('gp-m81001'),
    () =>
      post(
        '/fhir/Patient',
        examplePatient({
          identifier: [{ system: NHS_NUMBER_SYSTEM, value: randomTestNhsNumber() }],
          meta: { security: [{ system: ACCESS_SYSTEM, code: 'N81001' }] },
        }),
      ),
    UNPROCESSABLE,
  ),
  access(
    "ris-rn1 records a study for case A's order",
    'north',
    as('ris-rn1'),
    (w) =>
      post(
        '/fhir/ImagingStudy',
        exampleImagingStudy({
          basedOn: [{ reference: `ServiceRequest/${w.seeded.north.A.order}` }],
          subject: { reference: `Patient/${w.seeded.north.A.patient}` },
          endpoint: undefined,
        }),
      ),
    UNPROCESSABLE,
  ),
  access(
    "ris-rn1 issues a report for case A's order",
    'north',
    as('ris-rn1'),
    (w) =>
      post(
        '/fhir/DiagnosticReport',
        exampleDiagnosticReport({
          basedOn: [{ reference: `ServiceRequest/${w.seeded.north.A.order}` }],
          subject: { reference: `Patient/${w.seeded.north.A.patient}` },
        }),
      ),
    UNPROCESSABLE,
  ),
  // A conditional create must match only what the caller may see (or be refused): never hand over another's.
  access(
    "gp-m81001 orders with If-None-Exist naming case A's placer number",
    'midlands',
    as('gp-m81001'),
    (w) =>
      post(
        '/fhir/ServiceRequest',
        midlandsOrder(w, { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: w.seeded.nhs.A } }),
        { 'If-None-Exist': `identifier=${SYSTEMS.placerOrder}|${w.seeded.placer.A}` },
      ),
    [400, 403, 412, 422],
  ),
  {
    ...access(
      "gp-m81001 registers a new patient with If-None-Exist naming case C's NHS number",
      'midlands',
      as('gp-m81001'),
      (w) =>
        post(
          '/fhir/Patient',
          examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: randomTestNhsNumber() }] }),
          { 'If-None-Exist': `identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.C}` },
        ),
      [201, 400, 412, 422],
    ),
    mayWrite: true,
  },
  // Page tokens bound to another caller, another type, or not ours at all.
  access(
    'gp-n81001 pages Tasks with its ServiceRequest page token',
    'north',
    as('gp-n81001'),
    (w) => get(`/fhir/Task?_page=${w.seeded.pageTokens.northOrders}`),
    BAD_REQUEST,
  ),
  access(
    'gp-n81001 pages with a tampered page token',
    'north',
    as('gp-n81001'),
    (w) => get(`/fhir/ServiceRequest?_page=${tampered(w.seeded.pageTokens.northOrders)}`),
    BAD_REQUEST,
  ),
  access(
    'gp-n81001 pages with a token sealed under another secret',
    'north',
    as('gp-n81001'),
    () =>
      get(
        `/fhir/ServiceRequest?_page=${pageTokens('another-secret').encode('ServiceRequest?_count=1000', 'gp-n81001 ServiceRequest')}`,
      ),
    BAD_REQUEST,
  ),
  access(
    "ris-rm1 at midlands pages with gp-n81001's north page token",
    'midlands',
    as('ris-rm1'),
    (w) => get(`/fhir/ServiceRequest?_page=${w.seeded.pageTokens.northOrders}`),
    BAD_REQUEST,
  ),
  access(
    "gateway-south pages the directory with gateway-north's page token",
    'hub',
    as('gateway-south'),
    (w) => get(`/fhir/Organization?_page=${w.seeded.pageTokens.directory}`),
    BAD_REQUEST,
  ),
  access(
    "clinician-rs1 pages the locator with gateway-north's directory page token",
    'hub',
    as('clinician-rs1'),
    (w) => get(`/fhir/DocumentReference?_page=${w.seeded.pageTokens.directory}`),
    BAD_REQUEST,
  ),
  access(
    'gp-n81001 searches studies with their endpoints included (no Endpoint scope)',
    'north',
    as('gp-n81001'),
    () => get('/fhir/ImagingStudy?_include=ImagingStudy:endpoint'),
    FORBIDDEN,
  ),
  // Another region's gateway, with a real token that would read the resource at home.
  access(
    "gp-s81001 at midlands reads RM1's copy of its own order C",
    'midlands',
    as('gp-s81001'),
    (w) => get(`/fhir/ServiceRequest/${w.seeded.midlands.C.order}`),
    FORBIDDEN,
  ),
  access(
    "gp-n81001 at midlands reads case A's Task",
    'midlands',
    as('gp-n81001'),
    (w) => get(`/fhir/Task/${w.seeded.midlands.A.task}`),
    FORBIDDEN,
  ),
  access(
    "gp-n81001 at midlands batches reads of case A's Task and order",
    'midlands',
    as('gp-n81001'),
    (w) => batchOf([`Task/${w.seeded.midlands.A.task}`, `ServiceRequest/${w.seeded.midlands.A.order}`]),
    FORBIDDEN,
  ),
  access(
    "clinician-rs1 at north reads case A's report",
    'north',
    as('clinician-rs1'),
    (w) => get(`/fhir/DiagnosticReport/${w.seeded.north.A.report}`),
    FORBIDDEN,
  ),
  access(
    "ris-rm1 at north cancels case B's Task",
    'north',
    as('ris-rm1'),
    (w) => ({
      method: 'PUT',
      path: `/fhir/Task/${w.seeded.north.B.task}`,
      headers: { 'If-Match': `W/"${w.seeded.north.B.taskVersion}"` },
      body: { resourceType: 'Task', id: w.seeded.north.B.task, status: 'cancelled' },
    }),
    FORBIDDEN,
  ),
  access('gp-n81001 at south searches Tasks', 'south', as('gp-n81001'), () => get('/fhir/Task'), FORBIDDEN),
  access(
    'clinician-rs1 at south searches reports (none of RS1’s)',
    'south',
    as('clinician-rs1'),
    () => get('/fhir/DiagnosticReport'),
    OK,
  ),
  access(
    'clinician-rs1 at south searches Tasks (no Task scope)',
    'south',
    as('clinician-rs1'),
    () => get('/fhir/Task'),
    FORBIDDEN,
  ),
  // The hub's own token at a gateway: results for the locator, nothing else.
  access(
    "the hub's token reads case A's report at midlands (for the locator)",
    'midlands',
    HUB,
    (w) => get(`/fhir/DiagnosticReport/${w.seeded.midlands.A.report}`),
    OK,
  ),
  access(
    "the hub's token reads case A's patient at midlands",
    'midlands',
    HUB,
    (w) => get(`/fhir/Patient/${w.seeded.midlands.A.patient}`),
    FORBIDDEN,
  ),
  access(
    "the hub's token batches reads of case A's report and patient at midlands (the patient refused in its entry)",
    'midlands',
    HUB,
    (w) => batchOf([`DiagnosticReport/${w.seeded.midlands.A.report}`, `Patient/${w.seeded.midlands.A.patient}`]),
    OK,
  ),
  access(
    "the hub's token reads the history of case A's patient at midlands",
    'midlands',
    HUB,
    (w) => get(`/fhir/Patient/${w.seeded.midlands.A.patient}/_history`),
    FORBIDDEN,
  ),
  access(
    "gp-n81001 at midlands reads version 1 of case A's Task",
    'midlands',
    as('gp-n81001'),
    (w) => get(`/fhir/Task/${w.seeded.midlands.A.task}/_history/1`),
    FORBIDDEN,
  ),
  access(
    "the hub's token searches reports at midlands",
    'midlands',
    HUB,
    () => get('/fhir/DiagnosticReport'),
    FORBIDDEN,
  ),
  access("the hub's token searches the directory", 'hub', HUB, () => get('/fhir/Organization'), FORBIDDEN),
  // The hub: the locator for clinicians and gateways only, pointers only to a region's own content.
  access(
    'gp-n81001 asks the locator for case A’s patient',
    'hub',
    as('gp-n81001'),
    (w) => get(`/fhir/DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.A}`),
    FORBIDDEN,
  ),
  access(
    'ris-rm1 retrieves case A’s report through the locator',
    'hub',
    as('ris-rm1'),
    (w) => get(`/fhir/DocumentReference/${w.seeded.hub.pointer}/$retrieve`),
    FORBIDDEN,
  ),
  access('gp-n81001 reads the directory', 'hub', as('gp-n81001'), () => get('/fhir/Organization'), FORBIDDEN),
  access(
    'clinician-rs1 asks the locator for every pointer',
    'hub',
    as('clinician-rs1'),
    () => get('/fhir/DocumentReference'),
    BAD_REQUEST,
  ),
  access(
    'clinician-rs1 registers a pointer',
    'hub',
    as('clinician-rs1'),
    (w) => post('/fhir/DocumentReference', pointerBody(w, 'midlands', 'midlands')),
    FORBIDDEN,
  ),
  access(
    "gateway-north registers a pointer for the midlands' content",
    'hub',
    as('gateway-north'),
    (w) => post('/fhir/DocumentReference', pointerBody(w, 'midlands', 'midlands')),
    FORBIDDEN,
  ),
  access(
    "gateway-north registers a pointer of its own into the midlands' gateway",
    'hub',
    as('gateway-north'),
    (w) => post('/fhir/DocumentReference', pointerBody(w, 'midlands', 'north')),
    FORBIDDEN,
  ),
  access(
    'gateway-north registers a pointer to a server outside the directory',
    'hub',
    as('gateway-north'),
    (w) =>
      post('/fhir/DocumentReference', pointerBody(w, 'north', 'north', 'https://evil.example/fhir/DiagnosticReport/1')),
    FORBIDDEN,
  ),
  access(
    "gateway-north registers a pointer of its own that lists the midlands' source URL among its identifiers",
    'hub',
    as('gateway-north'),
    (w) => {
      const own = pointerBody(
        w,
        'north',
        'north',
        `${w.urlOf('north')}/fhir/DiagnosticReport/squatter-${w.seeded.run}`,
      );
      // The midlands' next report id, as HAPI's sequential ids would let a region guess it.
      const theirs = pointerBody(
        w,
        'midlands',
        'midlands',
        `${w.urlOf('midlands')}/fhir/DiagnosticReport/next-${w.seeded.run}`,
      );
      return post('/fhir/DocumentReference', { ...own, identifier: [theirs.masterIdentifier] });
    },
    UNPROCESSABLE,
  ),
  access(
    'gateway-north registers a pointer carrying content',
    'hub',
    as('gateway-north'),
    (w) => {
      const body = pointerBody(
        w,
        'north',
        'north',
        `${w.urlOf('north')}/fhir/DiagnosticReport/${w.seeded.north.A.report}`,
      );
      const [content] = body.content;
      return post('/fhir/DocumentReference', {
        ...body,
        content: [{ attachment: { ...content?.attachment, data: 'UEFUSUVOVCBEQVRB' } }],
      });
    },
    FORBIDDEN,
  ),
  access(
    'clinician-rs1 reads a pointer that does not exist',
    'hub',
    as('clinician-rs1'),
    () => get('/fhir/DocumentReference/no-such-pointer'),
    NOT_FOUND,
  ),
  access(
    'clinician-rs1 retrieves through a pointer that does not exist',
    'hub',
    as('clinician-rs1'),
    () => get('/fhir/DocumentReference/no-such-pointer/$retrieve'),
    NOT_FOUND,
  ),
];
