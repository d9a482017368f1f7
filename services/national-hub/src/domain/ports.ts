import type { Clock, FhirStore, Logger } from '@imaging/fhir';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { DirectoryLookups } from './directory-lookups.ts';

export interface RegionCall {
  method: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * What a region said. "No answer" (refused, reset, timed out) is kept apart from "answered with an
 * error", because the hub answers them differently (503: try again later; otherwise relay or 502).
 */
export type RegionResult<T> =
  | { answered: true; ok: true; status: number; body: T }
  | { answered: true; ok: false; status: number; outcome: OperationOutcome; text: string }
  | { answered: false; reason: string };

/** What the hub needs of the regions' gateways: one call, made with the hub's own service token. */
export interface RegionPort {
  call<T>(url: string, call: RegionCall): Promise<RegionResult<T>>;
}

/** What the hub's domain (router, locator, directory) is given. */
export interface HubDomainDeps {
  store: FhirStore;
  /** The directory's answers about regions, services and organisations (cached in the app). */
  directory: DirectoryLookups;
  regions: RegionPort;
  clock: Clock;
  logger: Logger;
  /** The hub's public URL, recorded as the audit observer. */
  hubUrl: string;
  /** The ids clients know locator pointers by (never the store's own). */
  pointerIds: PointerIds;
}

/** The kinds of organisation the directory knows. */
export type OrganisationKind = 'gp-practice' | 'imaging-provider' | 'trust';

/** Someone an alert can go to; `active: false` for someone who has left. */
export interface DirectoryPerson {
  id: string;
  name: string;
  active?: boolean;
}

/**
 * An organisation's part in the alert workflow (the fail-safe officer belongs to a region), or one of its
 * cancer MDTs: `cancer-mdt`, or `mdt-<site>` for a site of `MDT_SITES` (checked when the directory is seeded).
 */
export type PersonRole =
  | 'requesting-clinician'
  | 'delegate'
  | 'responsible-clinician'
  | 'spinal-on-call'
  | 'cancer-mdt'
  | `mdt-${string}`;

/** What the directory is seeded from: the deployment topology's regions, organisations and people. */
export interface DirectorySource {
  regions: readonly {
    id: string;
    name: string;
    serviceId: string;
    /** Where the hub reaches the gateway. */
    url: string;
    /** Where clients reach it, when not at `url`: the address the directory gives. */
    publicUrl?: string | undefined;
    failSafeOfficer?: DirectoryPerson;
  }[];
  organisations: readonly {
    ods: string;
    name: string;
    region: string;
    kind: OrganisationKind;
    people?: readonly (DirectoryPerson & { role: PersonRole })[];
  }[];
}

/**
 * The ids clients know locator pointers by. A store may number what it stores in sequence (HAPI FHIR's
 * SEQUENTIAL_NUMERIC does), and anyone who may read the locator could then read every pointer, NHS number
 * and source with it, by counting: "one patient per search" would mean nothing. Outside the hub a pointer
 * is `<store id>-<tag>`, the tag a MAC of the store id under the hub's secret, so only an id the hub has
 * handed out (in a search's answer, or a registration's) can be read. Replicas share the secret.
 */
export interface PointerIds {
  /** The id clients are given for a pointer the store holds under `storeId`. */
  outward(storeId: string): string;
  /** The store id behind an id a client sent, or undefined when the hub never handed that id out. */
  inward(id: string): string | undefined;
}
