import type { ResourceType } from '@medplum/fhirtypes';
import { checkSearch } from '@imaging/fhir';
import type { CheckedSearch, ParamRule, SearchHandling, SearchRules } from '@imaging/fhir';

/**
 * What the gateway answers in a search, per resource type: the parameters, their modifiers, prefixes and
 * chains, and the `_include`s and `_revinclude`s with the types they bring in. Nothing else reaches a
 * store (it is left out, or refused under `Prefer: handling=strict`), so the embedded store and HAPI are
 * asked the same questions. The CapabilityStatement is generated from this list (routes/metadata.ts), so
 * what the gateway declares and what it does cannot drift apart.
 */

const RANGE = ['eq', 'gt', 'lt', 'ge', 'le'] as const;
const token: ParamRule = { type: 'token' };
const date: ParamRule = { type: 'date', prefixes: RANGE };
const reference: ParamRule = { type: 'reference' };
/**
 * A reference into the hub's directory (an organisation by ODS code, a PractitionerRole by its identifier):
 * always logical here, so searched by identifier only (`owner:identifier=<ODS system>|RM1`), and
 * `owner.identifier=…` means the same.
 */
const byIdentifier: ParamRule = {
  type: 'reference',
  modifiers: ['identifier'],
  modifierRequired: true,
  chains: { identifier: 'as-identifier' },
};
const byOdsCode = byIdentifier;
/**
 * A patient reference: literal once resolved, so searched by `Patient/id`; `patient.identifier=<NHS number>`
 * finds the patients the caller may see first (reads.ts), never through a join that the access filter
 * would not cover.
 */
const patient: ParamRule = { type: 'reference', chains: { identifier: 'resolved' } };
const status: ParamRule = { type: 'token', modifiers: ['not'] };
const common = { _id: token, _lastUpdated: date } as const;

export const SEARCH_RULES = {
  Patient: {
    params: { ...common, identifier: token },
  },
  ServiceRequest: {
    params: {
      ...common,
      identifier: token,
      subject: reference,
      patient,
      status,
      requester: byOdsCode,
      performer: byOdsCode,
      code: token,
      authored: date,
    },
    // An order with its Task, its study and its report, in one search.
    revincludes: ['Task:focus', 'ImagingStudy:basedon', 'DiagnosticReport:based-on'],
  },
  Task: {
    params: {
      ...common,
      identifier: token,
      status,
      code: token,
      focus: reference,
      patient,
      owner: byOdsCode,
      requester: byOdsCode,
      'authored-on': date,
    },
    includes: { 'Task:focus:ServiceRequest': ['ServiceRequest'] },
  },
  ImagingStudy: {
    params: { ...common, identifier: token, basedon: reference, patient, started: date },
    includes: { 'ImagingStudy:endpoint': ['Endpoint'], 'ImagingStudy:basedon:ServiceRequest': ['ServiceRequest'] },
  },
  DiagnosticReport: {
    params: {
      ...common,
      identifier: token,
      'based-on': reference,
      patient,
      status,
      issued: date,
    },
    includes: { 'DiagnosticReport:based-on:ServiceRequest': ['ServiceRequest'] },
  },
  Endpoint: {
    params: { ...common, identifier: token },
  },
  // The safety layer's notices: an alert to its recipients, a breach to the provider (docs/clinical-safety.md).
  Communication: {
    params: {
      ...common,
      identifier: token,
      category: token,
      status,
      'based-on': reference,
      patient,
      recipient: byIdentifier,
      sender: byIdentifier,
      sent: date,
    },
  },
  // Not `date`: an open breach's period has no end, which R4's date matching treats differently per store.
  Flag: {
    params: { ...common, identifier: token, patient },
  },
} as const satisfies SearchRules;

export type SearchableType = keyof typeof SEARCH_RULES;

/**
 * A client's search of `type`, checked and normalised against SEARCH_RULES; a 400 naming each problem.
 * Under lenient handling, what the rules do not answer is left out instead (listed in `ignored`).
 */
export function checkGatewaySearch(
  type: ResourceType,
  params: URLSearchParams,
  handling: SearchHandling = 'strict',
): CheckedSearch {
  return checkSearch(SEARCH_RULES, type, params, { handling });
}
