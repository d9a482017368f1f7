import type { Endpoint } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { ENDPOINT_CONNECTION_TYPE_SYSTEM } from '../../terminology/r4-codes.ts';
import { isHttpUrl } from '../primitives.ts';
import { actorReferenceIssues } from '../references.ts';
import type { ProfileRules } from './common.ts';
import { isRegionIdentified } from './organization.ts';

/** Connection types of the DICOMweb / viewer endpoints an ImagingStudy carries (DOMAIN.md §6). */
export const IMAGING_ENDPOINT_CONNECTION_TYPES = ['dicom-wado-rs', 'ihe-iid'] as const;
/** Connection types of directory endpoints: the FHIR servers of regions and services. */
export const DIRECTORY_ENDPOINT_CONNECTION_TYPES = ['hl7-fhir-rest', 'hl7-fhir-msg'] as const;
const ALLOWED: readonly string[] = [...IMAGING_ENDPOINT_CONNECTION_TYPES, ...DIRECTORY_ENDPOINT_CONNECTION_TYPES];

/**
 * Endpoint: a DICOMweb (`dicom-wado-rs`) or viewer (`ihe-iid`) endpoint, or — because Endpoint is also
 * the directory entry of a FHIR server — `hl7-fhir-rest` / `hl7-fhir-msg`; and an absolute http(s)
 * address. A managing organisation, if given, is referenced by ODS (a region by its region id).
 */
export const endpointRules: ProfileRules<Endpoint> = (endpoint, ctx) => {
  const issues = [];
  const type = endpoint.connectionType;
  if (type && (type.system !== ENDPOINT_CONNECTION_TYPE_SYSTEM || !type.code || !ALLOWED.includes(type.code))) {
    issues.push(
      issue({
        code: 'code-invalid',
        text: `connectionType must be one of ${ALLOWED.join(', ')} from ${ENDPOINT_CONNECTION_TYPE_SYSTEM}`,
        expression: 'Endpoint.connectionType',
      }),
    );
  }
  if (typeof endpoint.address === 'string' && !isHttpUrl(endpoint.address)) {
    issues.push(
      issue({
        code: 'value',
        text: `'${endpoint.address}' is not an absolute http(s) URL`,
        expression: 'Endpoint.address',
      }),
    );
  }
  // A region's gateway Endpoint is managed by the region, referenced by region id (regions have no ODS code).
  const manager = endpoint.managingOrganization;
  if (!manager?.identifier || !isRegionIdentified([manager.identifier])) {
    issues.push(...actorReferenceIssues(manager, 'Endpoint.managingOrganization', ctx));
  }
  return issues;
};
