import { NHS_NUMBER_SYSTEM, ODS_SYSTEM, SYSTEMS } from '@imaging/fhir';
import { exampleServiceRequest } from '@imaging/fhir/examples';
import type { AttackWorld } from '../world.ts';
import type { AttackRequest, Credential, ServiceName } from '../surface.ts';

/** The families of attack, in the order they run. */
export const FAMILIES = ['tokens', 'access', 'messages', 'bodies', 'search', 'flow'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * One attack: a request to a service, the credentials it is sent with, and the statuses a service that
 * holds may answer. Whatever it answers, the runner also checks: no 5xx, nothing its caller may not see,
 * no internal detail, and no write unless the case says a success may write.
 */
export interface AttackCase {
  family: Family;
  name: string;
  service: ServiceName;
  credential: Credential;
  request: (world: AttackWorld) => AttackRequest | Promise<AttackRequest>;
  expect: readonly number[];
  /** A success may write (an odd but valid registration). A refusal never may, whatever this says. */
  mayWrite?: boolean;
}

export const as = (client: string, scope?: string): Credential => ({
  kind: 'client',
  client,
  ...(scope !== undefined ? { scope } : {}),
});
export const NO_TOKEN: Credential = { kind: 'none' };
export const HUB: Credential = as('national-hub');

export const get = (path: string, headers?: Record<string, string>): AttackRequest => ({
  method: 'GET',
  path,
  ...(headers ? { headers } : {}),
});
export const post = (path: string, body: unknown, headers?: Record<string, string>): AttackRequest => ({
  method: 'POST',
  path,
  body,
  ...(headers ? { headers } : {}),
});

/** A batch of reads at the FHIR base: each url (`Task/1`, `Task?focus=…`) one GET entry. */
export const batchOf = (urls: readonly string[]): AttackRequest =>
  post('/fhir', {
    resourceType: 'Bundle',
    type: 'batch',
    entry: urls.map((url) => ({ request: { method: 'GET', url } })),
  });

/** Status classes. */
export const OK = [200] as const;
export const CREATED = [200, 201] as const;
export const BAD_REQUEST = [400] as const;
export const UNAUTHORISED = [401] as const;
export const FORBIDDEN = [403] as const;
export const NOT_FOUND = [404] as const;
export const CONFLICT = [409] as const;
export const UNPROCESSABLE = [422] as const;
/** Malformed or refused by a business rule: either is a fair answer to a broken body. */
export const INVALID = [400, 422] as const;

/** gp-n81002's order, under `placer`, for case A's patient (N81001's): the start of several attacks across practices. */
export const otherPracticeOrder = (world: AttackWorld, placer: string, headers?: Record<string, string>) =>
  post(
    '/fhir/ServiceRequest',
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
      subject: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: world.seeded.nhs.A } },
      requester: { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'N81002' } },
    }),
    headers,
  );
