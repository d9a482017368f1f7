import type { OperationOutcomeIssue, ServiceRequest } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { EXTENSIONS, SNOMED_SYSTEM, SYSTEMS } from '../../systems.ts';
import { imagingProcedure } from '../../terminology/imaging-procedures.ts';
import { odsReferenceIssues, patientReferenceIssues, referenceIssues } from '../references.ts';
import type { ProfileRules } from './common.ts';
import { required, requiredIdentifier } from './common.ts';

/**
 * ServiceRequest, the imaging order. (status and priority come from their R4 codes: the required
 * bindings are checked for every resource.) Requester and performer[0] are organisations by ODS code;
 * further performers, if any, too. The requesting clinician, when named, is a PractitionerRole of the
 * hub's directory, by identifier (requesting-clinician extension); the encounter, when given, an Encounter
 * (contained, `#id`, as the order carries it between regions).
 */
export const serviceRequestRules: ProfileRules<ServiceRequest> = (order, ctx) => {
  const issues: OperationOutcomeIssue[] = [];
  if (order.intent !== undefined && order.intent !== 'order') {
    issues.push(
      issue({
        code: 'business-rule',
        text: `An imaging order has intent 'order', not '${order.intent}'`,
        expression: 'ServiceRequest.intent',
      }),
    );
  }
  issues.push(...requiredIdentifier('ServiceRequest', order.identifier, SYSTEMS.placerOrder, 'A placer order number'));
  issues.push(...patientReferenceIssues(order.subject, 'ServiceRequest.subject', ctx));
  issues.push(...odsReferenceIssues(order.requester, 'ServiceRequest.requester', ctx));
  if (!order.performer?.length) {
    issues.push(
      issue({
        code: 'required',
        text: 'A performing organisation (ODS) is required',
        expression: 'ServiceRequest.performer',
      }),
    );
  }
  order.performer?.forEach((p, i) => {
    issues.push(...odsReferenceIssues(p, `ServiceRequest.performer[${i}]`, ctx));
  });
  issues.push(...procedureCodeIssues(order));
  issues.push(
    ...required(order.authoredOn, 'authoredOn (when the order was placed) is required', 'ServiceRequest.authoredOn'),
  );
  issues.push(...referenceIssues(order.encounter, ['Encounter'], 'ServiceRequest.encounter', ctx, false));
  issues.push(...requestingClinicianIssues(order));
  return issues;
};

/** At most one requesting clinician, a PractitionerRole named by its directory identifier. */
function requestingClinicianIssues(order: ServiceRequest): OperationOutcomeIssue[] {
  const found = (order.extension ?? [])
    .map((extension, i) => ({ extension, i }))
    .filter(({ extension }) => extension.url === EXTENSIONS.requestingClinician);
  return found.flatMap(({ extension, i }, n) => {
    if (n > 0)
      return [
        issue({
          code: 'business-rule',
          text: 'An order names one requesting clinician',
          expression: `ServiceRequest.extension[${i}]`,
        }),
      ];
    const ref = extension.valueReference;
    const ok =
      ref?.identifier?.system === SYSTEMS.practitionerRole &&
      !!ref.identifier.value &&
      (ref.type === undefined || ref.type === 'PractitionerRole');
    return ok
      ? []
      : [
          issue({
            code: 'business-rule',
            text: `The requesting clinician is a valueReference to a PractitionerRole by its identifier (${SYSTEMS.practitionerRole})`,
            expression: `ServiceRequest.extension[${i}]`,
          }),
        ];
  });
}

/** The code needs a SNOMED CT coding, and every SNOMED CT coding must be a known imaging procedure (requirement 3). */
function procedureCodeIssues(order: ServiceRequest): OperationOutcomeIssue[] {
  const codings = order.code?.coding ?? [];
  const snomed = codings.map((coding, i) => ({ coding, i })).filter(({ coding }) => coding.system === SNOMED_SYSTEM);
  if (snomed.length === 0) {
    return [
      issue({
        code: 'required',
        text: `The procedure needs a SNOMED CT coding (${SNOMED_SYSTEM})`,
        expression: 'ServiceRequest.code',
      }),
    ];
  }
  return snomed
    .filter(({ coding }) => !imagingProcedure(coding.code))
    .map(({ coding, i }) =>
      issue({
        code: 'code-invalid',
        text: `SNOMED CT ${coding.code ?? '(no code)'} is not a known imaging procedure`,
        expression: `ServiceRequest.code.coding[${i}]`,
      }),
    );
}
