import { CASE_TRAIL_PARAM } from '@imaging/fhir-http';
import type { Credential, ServiceName } from '../surface.ts';
import type { AttackWorld } from '../world.ts';
import type { AttackCase } from './case.ts';
import { as, BAD_REQUEST, FORBIDDEN, get, HUB, NOT_FOUND, OK, post } from './case.ts';

/**
 * The flow view's event feed (`GET /events`, scope `flow/events`, the national observer only) and a case's
 * trail (`GET /fhir/$case-trail`) at the gateways. A trail is for the observer (`flow/case`), auditors and
 * the case's own organisations: a client of another region, or a service acting for no organisation, is
 * refused (403, whatever the case); a client of the region whose organisation is not in the case gets what
 * an unknown case gets, an empty trail (200), so whether the case exists is not disclosed. Its own case it
 * may read. The observer's own malformed requests are a 400. Missing and forged tokens are tried on both with
 * every other endpoint (endpoints.ts, tokens.ts). No case opens the feed: a feed never ends.
 * The parameter is `CASE_TRAIL_PARAM`, so a change of its name moves every case with it.
 */

const OBSERVER = as('flow-view');
const trail = (query: string) => get(`/fhir/$case-trail${query}`);
const param = (value: string) => `?${CASE_TRAIL_PARAM}=${encodeURIComponent(value)}`;

const flow = (
  name: string,
  service: ServiceName,
  credential: Credential,
  request: AttackCase['request'],
  expect: AttackCase['expect'],
): AttackCase => ({ family: 'flow', name, service, credential, request, expect });

/** Region clients asking for a trail: their own case, another's, at their gateway and another region's. */
const REGION_CLIENTS: readonly [string, ServiceName, string, (w: AttackWorld) => string, readonly number[]][] = [
  ['gp-n81001', 'north', "its own case A's", (w) => w.seeded.north.A.correlation as string, OK],
  ['gp-n81001', 'south', "the south's case C's", (w) => w.seeded.south.C.correlation as string, FORBIDDEN],
  // In its region, not in the case: the empty trail of an unknown case.
  ['gp-m81001', 'midlands', "the north's case A's", (w) => w.seeded.north.A.correlation as string, OK],
  ['ris-rm1', 'midlands', "case C's, which it performs,", (w) => w.seeded.south.C.correlation as string, OK],
  ['gateway-north', 'south', "the south's case C's", (w) => w.seeded.south.C.correlation as string, FORBIDDEN],
  ['clinician-rs1', 'south', "the south's case C's", (w) => w.seeded.south.C.correlation as string, OK],
];

/**
 * One AuditEvent by id (where every trail entry's fullUrl points), and the search of them: for those who may
 * read any trail there, and for nobody else, not even the case's own organisation (which reads them in the
 * trail). Refused from the token alone: a real AuditEvent and an unknown id get the same 403.
 */
const AUDIT_READERS_ONLY: readonly [string, 'north' | 'hub', Credential][] = [
  ['gp-n81001, case A’s own practice,', 'north', as('gp-n81001')],
  ['gp-n81002, another practice of the region,', 'north', as('gp-n81002')],
  ['ris-rm1, of another region,', 'north', as('ris-rm1')],
  ['gateway-midlands', 'north', as('gateway-midlands')],
  ['the observer narrowed to flow/events', 'north', as('flow-view', 'flow/events')],
  ['gp-n81001, case A’s own practice,', 'hub', as('gp-n81001')],
  ['clinician-rs1', 'hub', as('clinician-rs1')],
  ['gateway-north', 'hub', as('gateway-north')],
];
const AUDIT_PATHS = (id: string) => [
  `/fhir/AuditEvent/${id}`,
  `/fhir/AuditEvent/${id}/_history/1`,
  `/fhir/AuditEvent/${id}/_history`,
];

const AUDIT_EVENT_CASES: readonly AttackCase[] = [
  ...AUDIT_READERS_ONLY.flatMap(([who, service, credential]) => [
    ...[0, 1, 2].map((i) =>
      flow(
        `${who} reads case A's AuditEvent at ${service} (${['read', 'vread', 'history'][i]})`,
        service,
        credential,
        (w) => get(AUDIT_PATHS(w.seeded.audit[service])[i] as string),
        FORBIDDEN,
      ),
    ),
    flow(
      `${who} reads an unknown AuditEvent at ${service}`,
      service,
      credential,
      () => get('/fhir/AuditEvent/no-such-event'),
      FORBIDDEN,
    ),
    flow(
      `${who} searches the AuditEvents about case A's patient at ${service}`,
      service,
      credential,
      (w) => get(`/fhir/AuditEvent?entity=Patient/${w.seeded.north.A.patient}`),
      FORBIDDEN,
    ),
  ]),
  ...(['north', 'hub'] as const).flatMap((service) => [
    flow(
      `the observer reads case A's AuditEvent at ${service}`,
      service,
      OBSERVER,
      (w) => get(`/fhir/AuditEvent/${w.seeded.audit[service]}`),
      OK,
    ),
    flow(
      `the observer searches AuditEvents at ${service}`,
      service,
      OBSERVER,
      () => get('/fhir/AuditEvent?_count=100'),
      OK,
    ),
    flow(
      `the observer reads version 2 of case A's AuditEvent at ${service}`,
      service,
      OBSERVER,
      (w) => get(`/fhir/AuditEvent/${w.seeded.audit[service]}/_history/2`),
      NOT_FOUND,
    ),
    flow(
      `the observer reads case A's AuditEvent at ${service} with a malformed version`,
      service,
      OBSERVER,
      (w) => get(`/fhir/AuditEvent/${w.seeded.audit[service]}/_history/..%2F1`),
      [400, 404],
    ),
  ]),
  // The hub reads every region's trails, so it audits there as a national auditor does.
  flow(
    "the hub's token reads case A's AuditEvent at north",
    'north',
    HUB,
    (w) => get(`/fhir/AuditEvent/${w.seeded.audit.north}`),
    OK,
  ),
];

export const FLOW_CASES: readonly AttackCase[] = [
  ...AUDIT_EVENT_CASES,
  ...REGION_CLIENTS.map(([client, service, whose, correlation, expected]) =>
    flow(
      `${client} asks ${service} for ${whose} trail`,
      service,
      as(client),
      (w) => trail(param(correlation(w))),
      expected,
    ),
  ),
  ...(['gp-n81001', 'ris-rm1', 'gateway-midlands', 'clinician-rs1'] as const).map((client) =>
    flow(`${client} opens the event feed at midlands`, 'midlands', as(client), () => get('/events'), FORBIDDEN),
  ),
  flow(
    'the observer narrowed to flow/case opens the event feed',
    'north',
    as('flow-view', 'flow/case'),
    () => get('/events'),
    FORBIDDEN,
  ),
  flow(
    "the observer narrowed to flow/events asks for case A's trail",
    'north',
    as('flow-view', 'flow/events'),
    (w) => trail(param(w.seeded.north.A.correlation as string)),
    FORBIDDEN,
  ),
  // The observer's own bad requests.
  flow('the observer asks for a trail without a correlation id', 'north', OBSERVER, () => trail(''), BAD_REQUEST),
  flow(
    'the observer asks for a trail with an empty correlation id',
    'north',
    OBSERVER,
    () => trail(param('')),
    BAD_REQUEST,
  ),
  flow(
    'the observer asks for two trails at once',
    'north',
    OBSERVER,
    (w) =>
      trail(`${param(w.seeded.north.A.correlation as string)}&${CASE_TRAIL_PARAM}=${w.seeded.south.C.correlation}`),
    BAD_REQUEST,
  ),
  ...["' OR 1=1 --", '*', '../Task', 'a'.repeat(129), 'case\u0000A', '%'].map((value) =>
    flow(
      `the observer asks for the trail of ${JSON.stringify(value.slice(0, 20))}`,
      'midlands',
      OBSERVER,
      () => trail(param(value)),
      BAD_REQUEST,
    ),
  ),
  flow(
    'the observer asks for a trail by an identifier system instead',
    'north',
    OBSERVER,
    (w) => trail(`?identifier=${w.seeded.north.A.correlation}`),
    BAD_REQUEST,
  ),
  flow(
    'the observer asks for the trail of a correlation id nobody used',
    'south',
    OBSERVER,
    (w) => trail(param(`no-such-case-${w.seeded.run}`)),
    OK,
  ),
  // Writes: neither is one.
  flow(
    'the observer POSTs to $case-trail',
    'north',
    OBSERVER,
    (w) => post(`/fhir/$case-trail${param(`no-such-case-${w.seeded.run}`)}`, { resourceType: 'Parameters' }),
    [404, 405],
  ),
  flow('the observer POSTs to the event feed', 'north', OBSERVER, () => post('/events', {}), NOT_FOUND),
];
