import type { OperationOutcomeIssue, Task } from '@medplum/fhirtypes';
import { issue } from '../../outcomes.ts';
import { CODE_SYSTEMS, SYSTEMS } from '../../systems.ts';
import { isTaskCode, TASK_CODES } from '../../terminology/task-codes.ts';
import type { TaskCode } from '../../terminology/task-codes.ts';
import { actorReferenceIssues, odsReferenceIssues, patientReferenceIssues, referenceIssues } from '../references.ts';
import type { ProfileRules } from './common.ts';
import { requiredIdentifier } from './common.ts';

/**
 * Task (status and intent come from their R4 codes: the required bindings are checked for every
 * resource). Its code says what it is for, and each kind has its own rules:
 * - fulfil: focus → ServiceRequest, for → Patient, requester and owner by ODS;
 * - acknowledge-result (the requester's alert) and watch-acknowledgement (the performer's watch on it):
 *   focus → DiagnosticReport, an owner (an organisation by ODS, or a person);
 * - watch-turnaround (the safety layer's watch on an order's due times) and resolve-breach (a missed one):
 *   focus → ServiceRequest or ImagingStudy, basedOn the order, owner the imaging provider by ODS;
 * - deliver-message / register-pointer: local outbox items, identified by their message request id;
 * - outbox-lease: which replica of a gateway sends its outbox, identified by the region's lease identifier,
 *   which no other Task may carry (a Task another region sends is stored with its identifiers).
 */
export const taskRules: ProfileRules<Task> = (task, ctx) => {
  const issues: OperationOutcomeIssue[] = [];
  const codings = task.code?.coding ?? [];
  const index = codings.findIndex((c) => c.system === CODE_SYSTEMS.taskCode);
  const coding = codings[index];
  let code: TaskCode | undefined;
  if (!coding) {
    issues.push(
      issue({
        code: 'required',
        text: `A Task code from ${CODE_SYSTEMS.taskCode} is required`,
        expression: 'Task.code',
      }),
    );
  } else if (!isTaskCode(coding.code)) {
    issues.push(
      issue({
        code: 'code-invalid',
        text: `'${coding.code ?? ''}' is not a Task code (${TASK_CODES.join(', ')})`,
        expression: `Task.code.coding[${index}]`,
      }),
    );
  } else {
    code = coding.code;
  }

  if (code === 'outbox-lease') {
    issues.push(...requiredIdentifier('Task', task.identifier, SYSTEMS.outboxLease, "An outbox lease's identifier"));
  } else {
    const outbox = code === 'deliver-message' || code === 'register-pointer';
    const identifierSystems = outbox ? [SYSTEMS.task, SYSTEMS.messageRequest] : [SYSTEMS.task];
    issues.push(
      ...requiredIdentifier('Task', task.identifier, SYSTEMS.task, 'A Task business identifier', identifierSystems),
    );
    const lease = (task.identifier ?? []).findIndex((i) => i.system === SYSTEMS.outboxLease);
    if (lease >= 0)
      issues.push(
        issue({
          code: 'business-rule',
          text: `Only a gateway's own outbox lease carries an identifier with system ${SYSTEMS.outboxLease}`,
          expression: `Task.identifier[${lease}]`,
        }),
      );
  }

  if (code === 'fulfil') {
    issues.push(...referenceIssues(task.focus, ['ServiceRequest'], 'Task.focus', ctx));
    issues.push(...patientReferenceIssues(task.for, 'Task.for', ctx));
    issues.push(...odsReferenceIssues(task.requester, 'Task.requester', ctx));
    issues.push(...odsReferenceIssues(task.owner, 'Task.owner', ctx));
  } else if (code === 'acknowledge-result' || code === 'watch-acknowledgement') {
    issues.push(...referenceIssues(task.focus, ['DiagnosticReport'], 'Task.focus', ctx));
    issues.push(...patientReferenceIssues(task.for, 'Task.for', ctx, false));
    if (!task.owner)
      issues.push(issue({ code: 'required', text: 'An alert Task needs an owner', expression: 'Task.owner' }));
    issues.push(...actorReferenceIssues(task.owner, 'Task.owner', ctx));
    issues.push(...actorReferenceIssues(task.requester, 'Task.requester', ctx));
  } else if (code === 'watch-turnaround' || code === 'resolve-breach') {
    issues.push(...referenceIssues(task.focus, ['ServiceRequest', 'ImagingStudy'], 'Task.focus', ctx));
    issues.push(...referenceIssues(task.basedOn?.[0], ['ServiceRequest'], 'Task.basedOn[0]', ctx));
    issues.push(...patientReferenceIssues(task.for, 'Task.for', ctx, false));
    issues.push(...odsReferenceIssues(task.owner, 'Task.owner', ctx));
  } else {
    issues.push(...actorReferenceIssues(task.requester, 'Task.requester', ctx));
    issues.push(...actorReferenceIssues(task.owner, 'Task.owner', ctx));
  }
  return issues;
};
