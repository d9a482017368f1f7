import type { Encounter, OperationOutcomeIssue, Resource, ServiceRequest } from '@medplum/fhirtypes';
import {
  forbidden,
  issue,
  odsOf,
  OutcomeError,
  preconditionFailed,
  preconditionRequired,
  Problems,
  validationFindings,
} from '@imaging/fhir';
import type { Caller, WithId } from '@imaging/fhir';
import { caseOf } from './alerts.ts';
import { auditEntry } from './audit.ts';
import { copyOpenAlertsAfterDischarge } from './discharge-alerts.ts';
import type { GatewayDeps } from './ports.ts';
import { readVisible } from './reads.ts';
import { admitWellFormed } from './references.ts';
import { entryResource, runTransaction } from './transactions.ts';

/**
 * After ordering, the requester may record one thing about its order: what became of the encounter it
 * carries (contained), most often the patient's discharge, so that an alert raised on a report issued later,
 * or still open on one issued before, also goes to the registered GP practice (requirement 14). Nothing else about an order changes once placed.
 * The update is versioned (If-Match is required) and audited. It stays in this region: the requester's
 * region raises the alert, so only it needs to know.
 */
export async function updateOrderEncounter(
  deps: GatewayDeps,
  caller: Caller,
  id: string,
  body: ServiceRequest,
  ifMatch: string | undefined,
  correlationId: string,
): Promise<WithId<ServiceRequest>> {
  if (!ifMatch)
    throw new OutcomeError(preconditionRequired('Updating an order needs If-Match with the version you read'));
  const current = await readVisible<ServiceRequest>(deps, caller, 'ServiceRequest', id);
  if (current.meta?.versionId !== ifMatch)
    throw new OutcomeError(
      preconditionFailed(
        `ServiceRequest/${id} is at version ${current.meta?.versionId}, not ${ifMatch}: read it again`,
      ),
    );
  const requester = odsOf(current.requester);
  if (caller.kind !== 'referrer' || caller.organisation !== requester)
    throw new OutcomeError(forbidden(`Only the requester (${requester ?? 'none'}) may update its order's encounter`));
  const problems = new Problems();
  const { admitted: incoming } = await admitWellFormed(deps, caller, body, problems, current);
  problems.add(...unchangeableIssues(current, incoming));
  const updated = { ...incoming, id, meta: current.meta } as WithId<ServiceRequest>;
  problems.add(...validationFindings(updated).rules);
  problems.throwIfAny();
  const before = encounterOf(current);
  const after = encounterOf(updated);
  if (JSON.stringify(before) === JSON.stringify(after)) return current;
  const now = deps.clock.now();
  // A discharge reaches the GP practice with every alert on the order still open, in this transaction.
  const copies = await copyOpenAlertsAfterDischarge(deps, updated);
  const response = await runTransaction(deps.store, [
    { resource: updated, request: { method: 'PUT', url: `ServiceRequest/${id}`, ifMatch: `W/"${ifMatch}"` } },
    auditEntry(deps.region, {
      subtype: 'order-encounter-updated',
      description: "The order's encounter updated by its requester",
      action: 'U',
      who: { caller },
      what: [{ reference: `ServiceRequest/${id}` }],
      ...(current.subject ? { patient: current.subject } : {}),
      correlationId: await caseOf(deps, current, correlationId),
      detail: {
        'encounter-status': `${before?.status ?? '(none)'} → ${after?.status ?? '(none)'}`,
        ...(after?.period?.end ? { 'encounter-end': after.period.end } : {}),
      },
      recorded: now,
    }),
    ...copies,
  ]);
  return entryResource<ServiceRequest>(response, 0);
}

/** The Encounter an order carries: the contained one its `encounter` names. */
export function encounterOf(order: ServiceRequest): Encounter | undefined {
  const ref = order.encounter?.reference;
  if (!ref?.startsWith('#')) return undefined;
  return order.contained?.find((r): r is Encounter => r.resourceType === 'Encounter' && r.id === ref.slice(1));
}

/**
 * One issue per element that differs from the order as placed, but for the encounter it carries (which
 * must stay the one it was, by id) and what the server keeps (meta, narrative).
 */
function unchangeableIssues(current: ServiceRequest, incoming: ServiceRequest): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const keys = new Set([...Object.keys(current), ...Object.keys(incoming)]);
  for (const key of keys) {
    if (['id', 'meta', 'text', 'contained'].includes(key)) continue;
    if (!same(current[key as keyof ServiceRequest], incoming[key as keyof ServiceRequest]))
      issues.push(
        issue({
          code: 'business-rule',
          text: `ServiceRequest.${key} cannot be changed after ordering; only the encounter it carries can`,
          expression: `ServiceRequest.${key}`,
        }),
      );
  }
  const encounter = encounterOf(current);
  if (!encounter) {
    issues.push(
      issue({
        code: 'business-rule',
        text: 'This order carries no encounter (a contained Encounter named by ServiceRequest.encounter) to update',
        expression: 'ServiceRequest.encounter',
      }),
    );
    return issues;
  }
  const others = (order: ServiceRequest): Resource[] => (order.contained ?? []).filter((r) => r.id !== encounter.id);
  if (!encounterOf(incoming) || !same(others(current), others(incoming)))
    issues.push(
      issue({
        code: 'business-rule',
        text: `Only the contained Encounter #${encounter.id} may change, and it must stay`,
        expression: 'ServiceRequest.contained',
      }),
    );
  return issues;
}
