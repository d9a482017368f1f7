import type { BundleEntry, Task, TaskOutput } from '@medplum/fhirtypes';
import {
  assertTransition,
  forbidden,
  issue,
  odsOf,
  OutcomeError,
  preconditionFailed,
  preconditionRequired,
  Problems,
  taskCodeOf,
  unprocessable,
  unprocessableIssues,
  validationFindings,
} from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import { buildMessage, REQUESTER_CANCELLABLE, requestIdFor, TASK_UPDATE } from '@imaging/messaging';
import { taskUpdatedAudit } from './change-audits.ts';
import { orderReference } from './result-order.ts';
import { outputProblems } from './task-output.ts';
import { businessIdentifier, caseOfTask } from './identifiers.ts';
import { peerOf } from './labels.ts';
import { deliveryEntries } from './outbox.ts';
import type { GatewayDeps } from './ports.ts';
import { readVisible } from './reads.ts';
import { admitWellFormed, identifierLookup } from './references.ts';
import { entryResource, runTransaction } from './transactions.ts';

/** The fields a client may change on a Task; everything else is what was ordered, and stays. */
const CHANGEABLE = new Set([
  'status',
  'businessStatus',
  'statusReason',
  'output',
  'note',
  'executionPeriod',
  'lastModified',
  'meta',
  'text',
]);

/**
 * A client moves a Task on: the owner (the imaging provider) through the lifecycle, the requester only
 * to `cancelled` before work starts. The update is versioned (If-Match is required), and a change to a
 * Task shared with another region is sent there in the same transaction.
 */
export async function updateTask(
  deps: GatewayDeps,
  caller: Caller,
  id: string,
  body: Task,
  ifMatch: string | undefined,
  correlationId: string,
): Promise<WithId<Task>> {
  if (!ifMatch)
    throw new OutcomeError(preconditionRequired('Updating a Task needs If-Match with the version you read'));
  // Another organisation's Task is as unknown here as one that does not exist.
  const current = await readVisible<Task>(deps, caller, 'Task', id);
  if (current.meta?.versionId !== ifMatch) {
    throw new OutcomeError(
      preconditionFailed(`Task/${id} is at version ${current.meta?.versionId}, not ${ifMatch}: read it again`),
    );
  }
  // A result alert changes only through its own operations, never by PUT.
  if (taskCodeOf(current) !== 'fulfil')
    throw new OutcomeError(
      unprocessable(
        `Task/${id} is a result alert: it changes through $acknowledge and $record-action, not PUT`,
        'Task.code',
      ),
    );
  // Every problem with the update is reported in one response; who may make it (403) is decided first.
  const problems = new Problems();
  const { admitted: incoming } = await admitWellFormed(deps, caller, body, problems, current);
  checkRole(caller, current, incoming);
  await problems.check(() => checkUnchangedFields(current, incoming));
  if (incoming.status !== current.status) await problems.check(() => assertTransition(current.status, incoming.status));
  await problems.check(() => checkOutputs(deps, current, incoming));

  const now = deps.clock.now();
  const updated: WithId<Task> = {
    ...incoming,
    id,
    meta: current.meta,
    lastModified: now.toISOString(),
  } as WithId<Task>;
  problems.add(...validationFindings(updated).rules);
  problems.throwIfAny();
  const entries: BundleEntry[] = [
    { resource: updated, request: { method: 'PUT', url: `Task/${id}`, ifMatch: `W/"${ifMatch}"` } },
    taskUpdatedAudit(deps, caller, current, updated, correlationId),
  ];
  const peer = peerOf(current);
  if (peer && progressChanged(current, updated))
    entries.push(...(await taskUpdateDelivery(deps, updated, peer, correlationId, now)));
  return entryResource<Task>(await runTransaction(deps.store, entries), 0);
}

function checkUnchangedFields(current: Task, incoming: Task): void {
  const keys = new Set([...Object.keys(current), ...Object.keys(incoming)]);
  const changed = [...keys].filter(
    (k) =>
      !CHANGEABLE.has(k) &&
      k !== 'id' &&
      JSON.stringify(current[k as keyof Task] ?? null) !== JSON.stringify(incoming[k as keyof Task] ?? null),
  );
  if (changed.length) {
    throw new OutcomeError(
      unprocessableIssues(
        changed.map((k) =>
          issue({
            text: `Task.${k} cannot be changed; only the Task's progress can`,
            code: 'business-rule',
            expression: `Task.${k}`,
          }),
        ),
      ),
    );
  }
}

function checkRole(caller: Caller, current: Task, incoming: Task): void {
  const owner = odsOf(current.owner);
  const requester = odsOf(current.requester);
  if (caller.kind === 'provider' && caller.organisation === owner) return;
  if (caller.kind === 'referrer' && caller.organisation === requester) {
    if (incoming.status === 'cancelled' && REQUESTER_CANCELLABLE.has(current.status)) return;
    throw new OutcomeError(
      forbidden(`The requester may only cancel a Task that has not started (it is ${current.status})`),
    );
  }
  throw new OutcomeError(forbidden(`Only the owner (${owner ?? 'none'}) or the requester may update this Task`));
}

/**
 * A fulfilment Task's output names only its own order's results (task-output.ts), and a completed one its
 * report: a final DiagnosticReport for that order alone, so one report never completes another order's Task.
 */
async function checkOutputs(deps: GatewayDeps, current: Task, incoming: Task): Promise<void> {
  const completed = incoming.status === 'completed';
  const names = (o: TaskOutput) => o.valueReference?.reference?.startsWith('DiagnosticReport/');
  if (completed && !incoming.output?.some(names)) {
    throw new OutcomeError(
      unprocessable('A completed Task needs its DiagnosticReport as output (output.valueReference)', 'Task.output'),
    );
  }
  const problems = await outputProblems(deps.store, orderReference(current.focus), incoming.output, {
    issuedReports: completed,
  });
  if (problems.length) {
    throw new OutcomeError(
      unprocessableIssues(
        problems.map((p) =>
          issue({ text: p.text, code: 'business-rule', expression: `Task.output[${p.index}].valueReference` }),
        ),
      ),
    );
  }
}

function progressChanged(a: Task, b: Task): boolean {
  return (['status', 'businessStatus', 'statusReason', 'output'] as const).some(
    (f) => JSON.stringify(a[f] ?? null) !== JSON.stringify(b[f] ?? null),
  );
}

/** The message that tells the peer region about a Task's progress. */
export async function taskUpdateDelivery(
  deps: GatewayDeps,
  task: WithId<Task>,
  peer: string,
  correlationId: string,
  now: Date,
): Promise<BundleEntry[]> {
  const taskIdentifier = businessIdentifier(task)?.value ?? task.id;
  const identifierOf = await identifierLookup(deps.store, [task], businessIdentifier);
  const message = buildMessage({
    event: TASK_UPDATE,
    timestamp: now.toISOString(),
    sourceService: deps.region.serviceId,
    destinationService: peer,
    focus: task,
    resources: [],
    identifierOf,
  });
  const caseId = caseOfTask(task) ?? correlationId;
  const requestId = requestIdFor(
    'task-update',
    taskIdentifier,
    task.status,
    JSON.stringify(task.output ?? null),
    JSON.stringify(task.businessStatus ?? null),
  );
  return deliveryEntries(
    {
      kind: 'deliver-message',
      requestId,
      correlationId: caseId,
      destination: peer,
      message,
      ...(task.for ? { patient: task.for } : {}),
    },
    deps.region.regionId,
    now,
  );
}
