import type { ImagingStudy, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { DICOM_UID_SYSTEM, SYSTEMS } from '../../systems.ts';
import { patientReferenceIssues, referenceIssues, referenceTarget } from '../references.ts';
import type { ProfileRules } from './common.ts';
import { requiredIdentifier } from './common.ts';

/**
 * A DICOM UID as FHIR carries it: `urn:oid:` and dotted numeric components without leading zeros,
 * at most 64 characters for the UID itself (DICOM PS3.5 §9.1).
 */
export function isDicomUidUrn(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith('urn:oid:')) return false;
  const uid = value.slice('urn:oid:'.length);
  return uid.length <= 64 && /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(uid);
}

/**
 * ImagingStudy (requirement 20): a Study Instance UID and an accession number, `basedOn` the order
 * (a ServiceRequest; UK Core also allows a Task, which may be added), the patient, and the DICOMweb
 * Endpoint to fetch it from.
 */
export const imagingStudyRules: ProfileRules<ImagingStudy> = (study, ctx) => {
  const issues: OperationOutcomeIssue[] = [];
  const identifiers = study.identifier ?? [];
  const uids = identifiers
    .map((identifier, i) => ({ identifier, i }))
    .filter(({ identifier }) => identifier.system === DICOM_UID_SYSTEM);
  if (uids.length === 0) {
    issues.push(
      issue({
        code: 'required',
        text: `A Study Instance UID is required (identifier with system ${DICOM_UID_SYSTEM})`,
        expression: 'ImagingStudy.identifier',
      }),
    );
  }
  for (const { identifier, i } of uids) {
    if (!isDicomUidUrn(identifier.value)) {
      issues.push(
        issue({
          code: 'value',
          text: `'${identifier.value ?? ''}' is not a DICOM UID as urn:oid:<dotted digits>`,
          expression: `ImagingStudy.identifier[${i}].value`,
        }),
      );
    }
  }
  issues.push(...requiredIdentifier('ImagingStudy', study.identifier, SYSTEMS.accession, 'An accession number'));

  const basedOn = study.basedOn ?? [];
  if (basedOn.length === 0) {
    issues.push(
      issue({
        code: 'required',
        text: 'basedOn must reference the order (ServiceRequest)',
        expression: 'ImagingStudy.basedOn',
      }),
    );
  } else if (!basedOn.some((ref) => ['ServiceRequest', undefined].includes(referenceTarget(ref, ctx).type))) {
    // Each reference resolved to a type, and none is the order.
    issues.push(
      issue({
        code: 'business-rule',
        text: 'basedOn must include the order (ServiceRequest)',
        expression: 'ImagingStudy.basedOn',
      }),
    );
  }
  basedOn.forEach((ref, i) => {
    issues.push(...referenceIssues(ref, ['ServiceRequest', 'Task'], `ImagingStudy.basedOn[${i}]`, ctx));
  });

  issues.push(...patientReferenceIssues(study.subject, 'ImagingStudy.subject', ctx));

  if (!study.endpoint?.length) {
    issues.push(
      issue({
        code: 'required',
        text: 'The DICOMweb Endpoint the study can be retrieved from is required',
        expression: 'ImagingStudy.endpoint',
      }),
    );
  }
  study.endpoint?.forEach((ref, i) => {
    issues.push(...referenceIssues(ref, ['Endpoint'], `ImagingStudy.endpoint[${i}]`, ctx));
  });
  return issues;
};
