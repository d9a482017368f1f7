import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '@imaging/fhir';
import { ACCESS_SYSTEM } from '@imaging/regional-gateway/testing';
import type { Credential, ServiceName } from '../surface.ts';
import type { AttackWorld } from '../world.ts';
import type { AttackCase } from './case.ts';
import { as, BAD_REQUEST, get } from './case.ts';

/**
 * Bad search parameters, at a gateway (as the GP, who has data there) and at the hub (the directory and the
 * locator). Searching is being widened (lenient handling, _summary, _sort, _revinclude): a parameter the
 * server does not answer may one day be ignored rather than refused. So each is sent twice: with
 * `Prefer: handling=strict`, which must refuse it (400), and without, which may refuse it or ignore it
 * (200). Either way the runner checks that nothing leaks and nothing fails. A value that is malformed for
 * a parameter the server does answer is a 400 whatever the handling.
 */

const STRICT = { Prefer: 'handling=strict' };

interface SearchAttack {
  name: string;
  service: ServiceName;
  credential: Credential;
  query: (w: AttackWorld) => string;
  /** Unanswered (may be ignored under lenient handling), or malformed (always refused). */
  kind: 'unanswered' | 'malformed';
}

const GP = as('gp-n81001');
const at = (name: string, query: SearchAttack['query'], kind: SearchAttack['kind']): SearchAttack => ({
  name,
  service: 'north',
  credential: GP,
  query,
  kind,
});
const unanswered = (query: string) => at(query, () => query, 'unanswered');
const malformed = (query: string) => at(query, () => query, 'malformed');

const ATTACKS: readonly SearchAttack[] = [
  // Parameters, modifiers and features the gateway does not answer.
  unanswered('Task?foo=bar'),
  unanswered(`Task?_security=${ACCESS_SYSTEM}|RM1`),
  unanswered('Task?_tag=anything'),
  unanswered(`Task?_has:ServiceRequest:subject:requester:identifier=${ODS_SYSTEM}|RM1`),
  unanswered(`Patient?_has:Task:patient:owner:identifier=${ODS_SYSTEM}|RM1`),
  unanswered('Task?focus.identifier=anything'),
  unanswered('ServiceRequest?subject.name=Alex'),
  unanswered('ServiceRequest?subject:Patient.identifier=anything'),
  unanswered('Task?status:missing=true'),
  unanswered('Task?identifier:text=anything'),
  unanswered('Task?_id:not=x'),
  unanswered('Task?_revinclude=Provenance:target'),
  unanswered('Task?_revinclude=*'),
  unanswered('Task?_include=*'),
  unanswered('Task?_include=Task:owner'),
  unanswered('Task?_include:iterate=Task:focus:ServiceRequest'),
  unanswered('Task?_summary=bogus'),
  malformed('Task?_elements=nosuch'),
  unanswered('Task?_sort=owner'),
  unanswered('Task?_sort=_security'),
  unanswered('Task?_contained=true'),
  unanswered('Task?_filter=status eq requested'),
  unanswered('Task?_query=everything'),
  unanswered('Task?_format=xml'),
  unanswered('Task?_pretty=maybe'),
  unanswered('Task?constructor=1'),
  unanswered('Task?__proto__=1'),
  unanswered('Task?toString=x'),
  unanswered('Task?=x'),
  unanswered('Task?owner=Organization/123'),
  // Malformed values of parameters the gateway answers.
  malformed('Task?_count=-1'),
  malformed('Task?_count=1e19'),
  malformed('Task?_count=0x10'),
  malformed('Task?_count=1001'),
  // `_count=0` is `_summary=count` (R4): with another _summary it asks two things at once.
  malformed('Task?_count=0&_summary=true'),
  malformed('Task?_offset=1e19'),
  malformed('Task?_offset=-1'),
  malformed('Task?_offset=1.5'),
  malformed('Task?_page='),
  malformed('Task?_page=not-a-token'),
  malformed('Task?_lastUpdated=gt2026-13-45'),
  malformed('Task?_lastUpdated=ne2026'),
  malformed('Task?authored-on=2026-01-05T09:30'),
  malformed(`Patient?identifier=${NHS_NUMBER_SYSTEM}|943 476 5919`),
  malformed(`Patient?identifier=${NHS_NUMBER_SYSTEM}|1234567890`),
  malformed('Task?_id=../Patient/x'),
  malformed('Task?focus=http://evil.example/fhir/ServiceRequest/1'),
  malformed('ServiceRequest?subject=Task/1'),
  malformed(`Task?identifier=${'x'.repeat(2000)}`),
  malformed(`Task?owner:identifier=${ODS_SYSTEM}|R`),
  malformed('Task?status='),
  // The safety layer's notices: Communications and Flags.
  unanswered('Communication?medium=x'),
  unanswered(`Communication?_security=${ACCESS_SYSTEM}|RM1`),
  unanswered('Communication?recipient=Organization/123'),
  unanswered('Communication?_include=Communication:based-on'),
  unanswered('Flag?date=2026-01-05'),
  unanswered('Flag?_include=Flag:author'),
  malformed('Communication?sent=2026-13-45'),
  malformed('Communication?based-on=http://evil.example/fhir/Task/1'),
  malformed('Flag?patient=Task/1'),
  malformed('Flag?_count=-1'),
  // The hub: the directory and the locator.
  { ...unanswered('Organization?foo=bar'), service: 'hub', credential: as('gateway-north') },
  {
    ...unanswered('Organization?_has:Endpoint:organization:status=active'),
    service: 'hub',
    credential: as('gateway-north'),
  },
  { ...unanswered('Organization?_include=Organization:*'), service: 'hub', credential: as('gateway-north') },
  { ...malformed('Organization?_count=1e19'), service: 'hub', credential: as('gateway-north') },
  { ...malformed('Endpoint?_count=-1'), service: 'hub', credential: as('gateway-north') },
  {
    name: 'DocumentReference for an NHS number with spaces',
    service: 'hub',
    credential: as('clinician-rs1'),
    query: () => `DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|943 476 5919`,
    kind: 'malformed',
  },
  {
    name: 'DocumentReference for two patients at once',
    service: 'hub',
    credential: as('clinician-rs1'),
    query: (w) =>
      `DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.A}&subject:identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.C}`,
    kind: 'malformed',
  },
  {
    name: 'DocumentReference?_count=1e19',
    service: 'hub',
    credential: as('clinician-rs1'),
    query: (w) => `DocumentReference?subject:identifier=${NHS_NUMBER_SYSTEM}|${w.seeded.nhs.A}&_count=1e19`,
    kind: 'malformed',
  },
  { ...unanswered('DocumentReference?subject.name=Alex'), service: 'hub', credential: as('clinician-rs1') },
];

/** Values that are odd but well-formed: answered (200 with nothing of anyone else's) or refused, never a crash. */
const ODD_VALUES: readonly string[] = [
  'Task?identifier=%00%01%02',
  'Task?identifier=%E2%80%AE%F0%9F%A9%BB',
  `Task?identifier=${encodeURIComponent("' OR 1=1 --")}`,
  'Task?_count=5&_count=6',
  'Task?_total=accurate',
  'ServiceRequest?code=%7C',
  `Patient?identifier=${NHS_NUMBER_SYSTEM}|%20`,
];

function searchCases(attack: SearchAttack): AttackCase[] {
  const request = (headers?: Record<string, string>) => (w: AttackWorld) => get(`/fhir/${attack.query(w)}`, headers);
  const base = { family: 'search' as const, service: attack.service, credential: attack.credential };
  return [
    { ...base, name: `${attack.name} (strict)`, request: request(STRICT), expect: BAD_REQUEST },
    {
      ...base,
      name: `${attack.name} (default handling)`,
      request: request(),
      expect: attack.kind === 'unanswered' ? [200, 400] : BAD_REQUEST,
    },
  ];
}

export const SEARCH_CASES: readonly AttackCase[] = [
  ...ATTACKS.flatMap(searchCases),
  ...ODD_VALUES.map(
    (query): AttackCase => ({
      family: 'search',
      name: query,
      service: 'north',
      credential: GP,
      request: () => get(`/fhir/${query}`),
      expect: [200, 400],
    }),
  ),
];
