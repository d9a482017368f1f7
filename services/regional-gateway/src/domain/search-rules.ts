import type { ResourceType } from '@medplum/fhirtypes';
import { checkSearch } from '@imaging/fhir';
import type { CheckedSearch, ParamRule, SearchRules } from '@imaging/fhir';

/**
 * What the gateway answers in a search, per resource type: the parameters, their modifiers and prefixes,
 * and the `_include`s with the types they bring in. Anything else is a 400 before a store sees it, so the
 * embedded store and HAPI are asked the same questions. The CapabilityStatement is generated from this
 * list (routes/metadata.ts), so what the gateway declares and what it does cannot drift apart.
 */

const RANGE = ['eq', 'gt', 'lt', 'ge', 'le'] as const;
const token: ParamRule = { type: 'token' };
const date: ParamRule = { type: 'date', prefixes: RANGE };
const reference: ParamRule = { type: 'reference' };
/**
 * An organisation reference: always logical here (organisations live in the hub's directory), so searched
 * by ODS code only (`owner:identifier=<ODS system>|RM1`). Patient references are literal once resolved,
 * so they are searched by `Patient/id`.
 */
const byOdsCode: ParamRule = { type: 'reference', modifiers: ['identifier'], modifierRequired: true };
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
      patient: reference,
      status,
      requester: byOdsCode,
      performer: byOdsCode,
      code: token,
      authored: date,
    },
  },
  Task: {
    params: {
      ...common,
      identifier: token,
      status,
      code: token,
      focus: reference,
      patient: reference,
      owner: byOdsCode,
      requester: byOdsCode,
      'authored-on': date,
    },
    includes: { 'Task:focus:ServiceRequest': ['ServiceRequest'] },
  },
  ImagingStudy: {
    params: { ...common, identifier: token, basedon: reference, patient: reference, started: date },
    includes: { 'ImagingStudy:endpoint': ['Endpoint'], 'ImagingStudy:basedon:ServiceRequest': ['ServiceRequest'] },
  },
  DiagnosticReport: {
    params: {
      ...common,
      identifier: token,
      'based-on': reference,
      patient: reference,
      status,
      issued: date,
    },
    includes: { 'DiagnosticReport:based-on:ServiceRequest': ['ServiceRequest'] },
  },
  Endpoint: {
    params: { ...common, identifier: token },
  },
} as const satisfies SearchRules;

export type SearchableType = keyof typeof SEARCH_RULES;

/** A client's search of `type`, checked and normalised against SEARCH_RULES; a 400 naming each problem. */
export function checkGatewaySearch(type: ResourceType, params: URLSearchParams): CheckedSearch {
  return checkSearch(SEARCH_RULES, type, params);
}
