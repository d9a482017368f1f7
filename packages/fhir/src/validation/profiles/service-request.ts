import type { OperationOutcomeIssue, ServiceRequest } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { SNOMED_SYSTEM, SYSTEMS } from '../../systems.ts';
import { imagingProcedure } from '../../terminology/imaging-procedures.ts';
import { odsReferenceIssues, patientReferenceIssues } from '../references.ts';
import type { ProfileRules } from './common.ts';
import { required, requiredIdentifier } from './common.ts';

/**
 * ServiceRequest, the imaging order. (status and priority come from their R4 codes: the required
 * bindings are checked for every resource.) Requester and performer[0] are organisations by ODS code;
 * further performers, if any, too.
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
  return issues;
};

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
